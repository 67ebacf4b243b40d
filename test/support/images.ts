import { crc32 } from 'node:zlib';
import sharp from 'sharp';
import { sample } from './samples.js';

/**
 * Pads a JPEG to exactly `size` bytes with COM (comment) segments right after SOI, so the
 * result is still a valid, decodable JPEG: for testing the size limit to the byte.
 */
export function padJpeg(jpeg: Buffer, size: number): Buffer {
  let missing = size - jpeg.length;
  if (missing < 4 && missing !== 0) throw new Error('cannot pad by fewer than 4 bytes');
  const segments: Buffer[] = [];
  while (missing > 0) {
    const total = Math.min(missing, 65_535 + 2);
    const segmentLength = missing - total > 0 && missing - total < 4 ? total - 4 : total;
    const segment = Buffer.alloc(segmentLength, 0x20);
    segment[0] = 0xff;
    segment[1] = 0xfe;
    segment.writeUInt16BE(segmentLength - 2, 2);
    segments.push(segment);
    missing -= segmentLength;
  }
  return Buffer.concat([jpeg.subarray(0, 2), ...segments, jpeg.subarray(2)]);
}

/** A small PNG whose header claims width × height pixels: a decompression bomb's calling card. */
export function pngClaiming(width: number, height: number): Buffer {
  const png = Buffer.from(sample('png/basn0g01.png'));
  // IHDR data starts at byte 16 (8 signature + 4 length + 4 type); its CRC covers type + data.
  png.writeUInt32BE(width, 16);
  png.writeUInt32BE(height, 20);
  png.writeUInt32BE(crc32(png.subarray(12, 29)), 29);
  return png;
}

export async function generatedImage(
  format: 'gif' | 'webp' | 'jpeg' | 'png',
  width = 64,
  height = 48,
): Promise<Buffer> {
  return sharp({ create: { width, height, channels: 3, background: { r: 200, g: 80, b: 40 } } })
    .toFormat(format)
    .toBuffer();
}

/** A three-frame looping animation, as GIF or WebP. */
export async function animatedImage(format: 'gif' | 'webp'): Promise<Buffer> {
  const frame = (background: string) =>
    sharp({ create: { width: 40, height: 30, channels: 3, background } })
      .png()
      .toBuffer();
  const frames = await Promise.all(['red', 'blue', 'green'].map(frame));
  return sharp(frames, { join: { animated: true } })
    .toFormat(format, { loop: 0, delay: [100, 100, 100] })
    .toBuffer();
}

/** The marker bytes of every segment before the image data of a JPEG (APP1 = 0xe1 is EXIF/XMP). */
export function jpegSegmentMarkers(jpeg: Buffer): number[] {
  const markers: number[] = [];
  let offset = 2;
  while (offset + 4 <= jpeg.length && jpeg[offset] === 0xff) {
    const marker = jpeg[offset + 1]!;
    markers.push(marker);
    if (marker === 0xda) break;
    offset += 2 + jpeg.readUInt16BE(offset + 2);
  }
  return markers;
}

/**
 * A small animated WebP whose `frames` frames are each width × height: one lossless frame of
 * a single colour, repeated, so the file stays tiny while decoding it all would not.
 */
export async function animatedWebpClaiming(width: number, height: number, frames: number): Promise<Buffer> {
  const one = await sharp({ create: { width, height, channels: 4, background: '#123' } })
    .webp({ lossless: true })
    .toBuffer();
  let offset = 12;
  let vp8l: Buffer | undefined;
  while (offset < one.length) {
    const size = one.readUInt32LE(offset + 4);
    const end = offset + 8 + size + (size & 1);
    if (one.toString('latin1', offset, offset + 4) === 'VP8L') vp8l = one.subarray(offset, end);
    offset = end;
  }
  const chunk = (type: string, data: Buffer) => {
    const header = Buffer.alloc(8);
    header.write(type, 'latin1');
    header.writeUInt32LE(data.length, 4);
    return Buffer.concat([header, data, Buffer.alloc(data.length & 1)]);
  };
  const u24 = (v: number) => Buffer.from([v & 255, (v >> 8) & 255, (v >> 16) & 255]);
  const frame = chunk(
    'ANMF',
    Buffer.concat([u24(0), u24(0), u24(width - 1), u24(height - 1), u24(100), Buffer.from([0]), vp8l!]),
  );
  const body = Buffer.concat([
    chunk('VP8X', Buffer.concat([Buffer.from([0x12, 0, 0, 0]), u24(width - 1), u24(height - 1)])),
    chunk('ANIM', Buffer.alloc(6)),
    ...Array<Buffer>(frames).fill(frame),
  ]);
  const riff = Buffer.alloc(12);
  riff.write('RIFF', 'latin1');
  riff.writeUInt32LE(body.length + 4, 4);
  riff.write('WEBP', 8, 'latin1');
  return Buffer.concat([riff, body]);
}
