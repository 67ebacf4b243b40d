import sharp from 'sharp';
import { describe, expect, it } from 'vitest';
import { readJpegHeader, readPngHeader } from '../../src/domain/image-header.js';
import { jpegWithTwoOrientations } from '../support/hostile-jpegs.js';
import { samples } from '../support/samples.js';

const libvipsHeader = async (bytes: Buffer) => {
  const meta = await sharp(bytes).metadata();
  return { width: meta.width, height: meta.height, orientation: meta.orientation ?? 1 };
};

// The header reader is a shortcut past libvips: wherever it answers, it must say what libvips says.
describe('readJpegHeader', () => {
  it.each(samples('jpg'))('agrees with libvips on $name', async ({ bytes }) => {
    expect(readJpegHeader(bytes)).toEqual(await libvipsHeader(bytes));
  });

  it.each([1, 3, 6, 8])('reads EXIF orientation %i', async (orientation) => {
    const bytes = await sharp({ create: { width: 40, height: 20, channels: 3, background: '#08f' } })
      .jpeg()
      .withMetadata({ orientation })
      .toBuffer();
    expect(readJpegHeader(bytes)).toEqual({ width: 40, height: 20, orientation });
    expect(readJpegHeader(bytes)).toEqual(await libvipsHeader(bytes));
  });

  it('leaves anything it does not fully understand to libvips', () => {
    const jpeg = samples('jpg').find((s) => s.name === 'jpg/portrait_6.jpg')!.bytes;
    expect(readJpegHeader(jpeg.subarray(0, 100))).toBeUndefined(); // cut inside the EXIF block
    expect(readJpegHeader(Buffer.from('\xff\xd8\xff<html>', 'latin1'))).toBeUndefined();
    const orientationAt = jpeg.indexOf(Buffer.from([0x01, 0x12, 0x00, 0x03]));
    const outOfRange = Buffer.from(jpeg);
    outOfRange.writeUInt16BE(9, orientationAt + 8);
    expect(readJpegHeader(outOfRange)).toBeUndefined();
  });

  it('leaves markers without a length (RSTn, TEM) and a repeated Orientation tag to libvips', async () => {
    const plain = await sharp({ create: { width: 40, height: 20, channels: 3, background: '#08f' } })
      .jpeg()
      .toBuffer();
    for (const marker of [0xd0, 0xd7, 0x01]) {
      const withMarker = Buffer.concat([plain.subarray(0, 2), Buffer.from([0xff, marker]), plain.subarray(2)]);
      expect(readJpegHeader(withMarker)).toBeUndefined();
    }
    expect(readJpegHeader(await jpegWithTwoOrientations(6, 1))).toBeUndefined();
  });
});

describe('readPngHeader', () => {
  it.each(samples('png'))('agrees with libvips on $name', async ({ bytes }) => {
    expect(readPngHeader(bytes)).toEqual(await libvipsHeader(bytes));
  });

  it('leaves a PNG with an eXIf chunk (an orientation) to libvips', async () => {
    const bytes = await sharp({ create: { width: 40, height: 20, channels: 3, background: '#08f' } })
      .png()
      .withMetadata({ orientation: 6 })
      .toBuffer();
    expect(bytes.includes('eXIf')).toBe(true);
    expect(readPngHeader(bytes)).toBeUndefined();
  });
});
