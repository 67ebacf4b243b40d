import { formatBytes } from '../domain/format.js';

/**
 * Quick checks made before anything is sent, so a person learns at once that a file cannot be
 * accepted. The server checks everything again from the bytes: these only save a wasted upload.
 */

export type Sniffed = 'image/jpeg' | 'image/png' | 'image/gif' | 'image/webp';

/** The accepted kind of image the first bytes announce, or null. */
export function sniff(head: Uint8Array): Sniffed | null {
  const starts = (...bytes: number[]) => bytes.every((b, i) => head[i] === b);
  const ascii = (offset: number, text: string) => [...text].every((ch, i) => head[offset + i] === ch.charCodeAt(0));
  if (starts(0xff, 0xd8, 0xff)) return 'image/jpeg';
  if (starts(0x89, 0x50, 0x4e, 0x47, 0x0d, 0x0a, 0x1a, 0x0a)) return 'image/png';
  if (ascii(0, 'GIF87a') || ascii(0, 'GIF89a')) return 'image/gif';
  if (ascii(0, 'RIFF') && ascii(8, 'WEBP')) return 'image/webp';
  return null;
}

/** Wording kept in step with src/domain/messages.ts. */
export const text = {
  tooLarge: (size: number, limit: number) =>
    `This image is ${formatBytes(size)}, larger than the ${formatBytes(limit)} limit. Make it smaller (resize or export at a lower quality) and try again.`,
  empty: 'This file is empty. Choose an image file.',
  unsupported: 'This file is not a JPEG, PNG, GIF or WebP image. Choose an image in one of those formats.',
  svg: 'SVG files are not accepted because they can carry scripts. Export the drawing as PNG and upload that.',
  heif: 'HEIC/HEIF photos are not supported. Export the photo as JPEG (on an iPhone: Settings › Camera › Formats › Most Compatible) and upload that.',
  noFile: 'Choose an image to upload.',
  noName: 'Enter your name (1 to 100 characters).',
  nameTooLong: 'Your name is too long: use at most 100 characters.',
} as const;

/** The message explaining why `file` cannot be uploaded, or null when it may be sent. */
export async function checkFile(file: File, maxBytes: number): Promise<string | null> {
  if (file.size === 0) return text.empty;
  const type = file.type.toLowerCase();
  const extension = /\.([^.]+)$/.exec(file.name)?.[1]?.toLowerCase() ?? '';
  if (type === 'image/svg+xml' || extension === 'svg') return text.svg;
  if (/^image\/hei[cf]/.test(type) || extension === 'heic' || extension === 'heif') return text.heif;
  // The size first: it needs no reading, and a huge file of the wrong type is refused either way.
  if (file.size > maxBytes) return text.tooLarge(file.size, maxBytes);
  const head = new Uint8Array(await file.slice(0, 16).arrayBuffer());
  return sniff(head) ? null : text.unsupported;
}

export function checkName(value: string): string | null {
  const name = value.trim();
  if (name.length === 0) return text.noName;
  if ([...name].length > 100) return text.nameTooLong;
  return null;
}
