import type { Request } from 'express';

/** A browser lists text/html in Accept; curl (`*\/*`) and API clients get JSON. */
export function wantsHtml(req: Request): boolean {
  return (req.get('accept') ?? '').includes('text/html');
}

/** Makes a stored URL absolute: S3 URLs already are; `/uploads/...` gets this app's origin. */
export function absoluteUrl(req: Request, url: string, publicBaseUrl: string | undefined): string {
  if (/^https?:\/\//.test(url)) return url;
  return `${publicBaseUrl ?? `${req.protocol}://${req.get('host')}`}${url}`;
}
