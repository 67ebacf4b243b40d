/**
 * Removes metadata that can give away who took a photo and where (EXIF with GPS, device and
 * time; XMP; IPTC; comments) by dropping the containers that hold it, without re-encoding:
 * pixels, ICC colour profiles and animation are kept bit for bit. Only whole, known
 * containers are removed, and anything not understood makes the function give up (return
 * undefined) so that the caller can fall back to re-encoding.
 */
import type { ImageContentType } from './image.js';
import { jpegHeaderSegments } from './image-header.js';

export function stripMetadata(bytes: Buffer, type: ImageContentType): Buffer | undefined {
  try {
    switch (type) {
      case 'image/jpeg':
        return stripJpeg(bytes);
      case 'image/png':
        return stripPng(bytes);
      case 'image/webp':
        return stripWebp(bytes);
      case 'image/gif':
        return stripGif(bytes);
    }
  } catch {
    return undefined;
  }
}

// JPEG: APP1 (Exif, XMP), APP13 (Photoshop/IPTC), COM and the other APPn segments go; APP0
// (JFIF), APP2 (ICC profile) and APP14 (Adobe colour transform, needed to decode) stay.
const JPEG_KEEP_APP = new Set([0xe0, 0xe2, 0xee]);
const JPEG_EOI = Buffer.from([0xff, 0xd9]);

function stripJpeg(bytes: Buffer): Buffer | undefined {
  const header = splitJpegHeader(bytes);
  if (!header) return undefined;
  // From the start of scan on there is entropy-coded data (and, in progressive files, more
  // tables and scans) up to the end-of-image marker, which cannot occur inside it. Whatever
  // follows EOI (appended images or video that carry their own EXIF, or a polyglot's HTML)
  // is not part of this image and is dropped.
  const end = bytes.indexOf(JPEG_EOI, header.scanStart + 2);
  if (end === -1) return undefined;
  return Buffer.concat([...header.kept, bytes.subarray(header.scanStart, end + 2)]);
}

/**
 * The JPEG without the metadata segments of its header, for a decoder that would otherwise
 * parse them: the bytes themselves when there are none, and also when the header cannot be
 * walked (the decoder then reports the damage).
 */
export function jpegWithoutHeaderMetadata(bytes: Buffer): Buffer {
  const header = splitJpegHeader(bytes);
  if (!header?.dropped) return bytes;
  return Buffer.concat([...header.kept, bytes.subarray(header.scanStart)]);
}

/** The header segments to keep, whether any were dropped, and where the first scan starts. */
function splitJpegHeader(bytes: Buffer): { kept: Buffer[]; dropped: boolean; scanStart: number } | undefined {
  const header = jpegHeaderSegments(bytes);
  if (!header) return undefined;
  const kept: Buffer[] = [bytes.subarray(0, 2)];
  let dropped = false;
  for (const { marker, start, end } of header.segments) {
    const isMetadata = (marker >= 0xe0 && marker <= 0xef && !JPEG_KEEP_APP.has(marker)) || marker === 0xfe;
    if (isMetadata) dropped = true;
    else kept.push(bytes.subarray(start, end));
  }
  return { kept, dropped, scanStart: header.scanStart };
}

// PNG: the text chunks (XMP travels in iTXt), eXIf and tIME go; iCCP, sRGB, gAMA and the
// animation chunks of APNG stay.
const PNG_DROP = new Set(['tEXt', 'zTXt', 'iTXt', 'eXIf', 'tIME']);

function stripPng(bytes: Buffer): Buffer | undefined {
  const kept: Buffer[] = [bytes.subarray(0, 8)];
  let offset = 8;
  while (offset < bytes.length) {
    if (offset + 12 > bytes.length) return undefined;
    const length = bytes.readUInt32BE(offset);
    const type = bytes.toString('latin1', offset + 4, offset + 8);
    const end = offset + 12 + length;
    if (end > bytes.length) return undefined;
    if (!PNG_DROP.has(type)) kept.push(bytes.subarray(offset, end));
    offset = end;
    if (type === 'IEND') return Buffer.concat(kept);
  }
  return undefined;
}

// WebP (extended format): the EXIF and XMP chunks go and the VP8X flags saying they exist are
// cleared; ICCP and the animation chunks stay.
function stripWebp(bytes: Buffer): Buffer | undefined {
  if (bytes.toString('latin1', 0, 4) !== 'RIFF' || bytes.toString('latin1', 8, 12) !== 'WEBP') return undefined;
  const chunks: Buffer[] = [];
  let offset = 12;
  // Bytes after the RIFF container are not part of the image: they are dropped.
  const riffEnd = Math.min(bytes.length, 8 + bytes.readUInt32LE(4));
  while (offset < riffEnd) {
    if (offset + 8 > riffEnd) return undefined;
    const type = bytes.toString('latin1', offset, offset + 4);
    const size = bytes.readUInt32LE(offset + 4);
    const end = offset + 8 + size + (size % 2);
    if (end > riffEnd + (size % 2)) return undefined;
    const chunk = Buffer.from(bytes.subarray(offset, Math.min(end, riffEnd)));
    if (type === 'VP8X') chunk[8] = chunk[8]! & ~(0x08 | 0x04); // EXIF and XMP flags
    if (type !== 'EXIF' && type !== 'XMP ') chunks.push(chunk);
    offset = end;
  }
  const body = Buffer.concat(chunks);
  const header = Buffer.alloc(12);
  header.write('RIFF', 0, 'latin1');
  header.writeUInt32LE(body.length + 4, 4);
  header.write('WEBP', 8, 'latin1');
  return Buffer.concat([header, body]);
}

// GIF: comment extensions and application extensions (XMP lives in one) go, except the
// NETSCAPE2.0/ANIMEXTS1.0 block that makes an animation loop.
function stripGif(bytes: Buffer): Buffer | undefined {
  const flags = bytes[10]!;
  let offset = 13 + (flags & 0x80 ? 3 * 2 ** ((flags & 0x07) + 1) : 0);
  const kept: Buffer[] = [bytes.subarray(0, offset)];
  const skipSubBlocks = (from: number) => {
    let at = from;
    while (at < bytes.length && bytes[at] !== 0) at += bytes[at]! + 1;
    if (at >= bytes.length) throw new Error('truncated GIF');
    return at + 1;
  };
  while (offset < bytes.length) {
    const introducer = bytes[offset]!;
    if (introducer === 0x3b) {
      kept.push(bytes.subarray(offset, offset + 1));
      return Buffer.concat(kept);
    }
    if (introducer === 0x2c) {
      const localFlags = bytes[offset + 9]!;
      const tableEnd = offset + 10 + (localFlags & 0x80 ? 3 * 2 ** ((localFlags & 0x07) + 1) : 0);
      const end = skipSubBlocks(tableEnd + 1); // +1: LZW minimum code size
      kept.push(bytes.subarray(offset, end));
      offset = end;
      continue;
    }
    if (introducer !== 0x21) return undefined;
    const label = bytes[offset + 1]!;
    const end = skipSubBlocks(offset + 2);
    const appId = label === 0xff ? bytes.toString('latin1', offset + 3, offset + 14) : '';
    const drop = label === 0xfe || (label === 0xff && appId !== 'NETSCAPE2.0' && appId !== 'ANIMEXTS1.0');
    if (!drop) kept.push(bytes.subarray(offset, end));
    offset = end;
  }
  return undefined;
}
