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
