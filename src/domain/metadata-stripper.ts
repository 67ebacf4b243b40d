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

function stripJpeg(bytes: Buffer): Buffer | undefined {
  const header = splitJpegHeader(bytes);
  if (!header) return undefined;
  const kept = [...header.kept];
  // From the first scan on, segments (more scans, tables, and APPn/COM too) alternate with
  // entropy-coded data, up to the end-of-image marker. Each segment is read by its length, as
  // libjpeg reads it, and the entropy-coded data runs to the first marker that is not a
  // restart marker or a stuffed 0xFF. Whatever follows EOI (appended images or video that
  // carry their own EXIF, or a polyglot's HTML) is not part of this image and is dropped.
  let offset = header.scanStart;
  for (;;) {
    if (offset + 2 > bytes.length || bytes[offset] !== 0xff) return undefined;
    const marker = bytes[offset + 1]!;
    if (marker === 0xff) {
      offset += 1; // fill byte
      continue;
    }
    if (marker === 0xd9) {
      kept.push(bytes.subarray(offset, offset + 2));
      return Buffer.concat(kept);
    }
    if (!JPEG_BETWEEN_SCANS.has(marker) && !isJpegMetadata(marker)) return undefined;
    if (offset + 4 > bytes.length) return undefined;
    const end = offset + 2 + bytes.readUInt16BE(offset + 2);
    if (end < offset + 4 || end > bytes.length) return undefined;
    if (!isJpegMetadata(marker)) kept.push(bytes.subarray(offset, end));
    offset = end;
    if (marker === 0xda) {
      const dataEnd = endOfEntropyCodedData(bytes, offset);
      if (dataEnd === undefined) return undefined;
      kept.push(bytes.subarray(offset, dataEnd));
      offset = dataEnd;
    }
  }
}

// SOS, DHT, DAC, DQT, DRI: what a progressive or multi-scan JPEG has between its scans.
const JPEG_BETWEEN_SCANS = new Set([0xda, 0xc4, 0xcc, 0xdb, 0xdd]);

const isJpegMetadata = (marker: number) =>
  (marker >= 0xe0 && marker <= 0xef && !JPEG_KEEP_APP.has(marker)) || marker === 0xfe;

/** Offset of the first marker after entropy-coded data that starts at `from`. */
function endOfEntropyCodedData(bytes: Buffer, from: number): number | undefined {
  let at = from;
  for (;;) {
    at = bytes.indexOf(0xff, at);
    if (at === -1 || at + 1 >= bytes.length) return undefined;
    const next = bytes[at + 1]!;
    if (next === 0x00 || (next >= 0xd0 && next <= 0xd7))
      at += 2; // stuffed 0xFF, restart marker
    else if (next === 0xff)
      at += 1; // fill byte before a marker
    else return at;
  }
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
    if (isJpegMetadata(marker)) dropped = true;
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
