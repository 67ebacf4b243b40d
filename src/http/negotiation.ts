import type { Request } from 'express';

/** A browser lists text/html in Accept; curl (`*\/*`) and API clients get JSON. */
export function wantsHtml(req: Request): boolean {
  req.res?.vary('Accept'); // the same URL answers HTML or JSON: caches must keep both apart
  return (req.get('accept') ?? '').includes('text/html');
}

/** Makes a stored URL absolute: S3 URLs already are; `/uploads/...` gets this app's origin. */
export function absoluteUrl(req: Request, url: string, publicBaseUrl: string | undefined): string {
  if (/^https?:\/\//.test(url)) return url;
  if (publicBaseUrl) return `${publicBaseUrl}${url}`;
  const host = req.get('host');
  return host ? `${req.protocol}://${host}${url}` : url;
}
