import { describe, expect, it } from 'vitest';
import { TooManyPixelsError, UnsupportedTypeError } from '../../src/domain/errors.js';
import { assertDecodable, inspectImage, readImageHeader, sniffFormat } from '../../src/domain/image-inspector.js';
import { generatedImage, pngClaiming } from '../support/images.js';
import { sample, samples } from '../support/samples.js';

const MAX_PIXELS = 40_000_000;

describe('inspectImage', () => {
  it.each(samples('jpg'))('accepts $name as a JPEG', async ({ bytes }) => {
    const image = await inspectImage(bytes, MAX_PIXELS);
    expect(image.contentType).toBe('image/jpeg');
    expect(image.width).toBeGreaterThan(0);
    expect(image.height).toBeGreaterThan(0);
  });

  it.each(samples('png'))('accepts $name as a PNG', async ({ bytes }) => {
    expect(await inspectImage(bytes, MAX_PIXELS)).toEqual({
      contentType: 'image/png',
      width: 32,
      height: 32,
      orientation: 1,
      pages: 1,
    });
  });

  it.each(['gif', 'webp'] as const)('accepts a %s', async (format) => {
    const image = await inspectImage(await generatedImage(format), MAX_PIXELS);
    expect(image).toEqual({ contentType: `image/${format}`, width: 64, height: 48, orientation: 1, pages: 1 });
  });

  it.each(samples('bad').filter((s) => s.name.endsWith('.png')))('refuses $name as undecodable', async ({ bytes }) => {
    await expect(inspectImage(bytes, MAX_PIXELS)).rejects.toThrow(UnsupportedTypeError);
  });

  it('refuses HEIF with a message that says to export as JPEG', async () => {
    await expect(inspectImage(sample('heic/samplefilehub.heif'), MAX_PIXELS)).rejects.toThrow(
      /HEIC\/HEIF.*Export the photo as JPEG/,
    );
  });

  it('refuses SVG, even one that claims to be a JPEG', async () => {
    const svg = Buffer.from(
      '<?xml version="1.0"?>\n<svg xmlns="http://www.w3.org/2000/svg"><script>alert(1)</script></svg>',
    );
    await expect(inspectImage(svg, MAX_PIXELS)).rejects.toThrow(/SVG files are not accepted/);
  });

  it.each([
    ['HTML', Buffer.from('<!doctype html><h1>hi</h1>')],
    ['PHP', Buffer.from('<?php system($_GET["c"]); ?>')],
    ['plain text', Buffer.from('just some text')],
    [
      'JPEG magic followed by HTML',
      Buffer.concat([Buffer.from([0xff, 0xd8, 0xff, 0xe0]), Buffer.from('<html><script>x</script></html>')]),
    ],
    ['a truncated JPEG', sample('jpg/DSCN0010.jpg').subarray(0, 60_000)],
  ])('refuses %s with 415', async (_label, bytes) => {
    const error = await inspectImage(bytes, MAX_PIXELS).catch((e: unknown) => e);
    expect(error).toBeInstanceOf(UnsupportedTypeError);
    expect((error as UnsupportedTypeError).status).toBe(415);
  });

  it('refuses a small file declaring 30000 × 30000 pixels before decoding it', async () => {
    const bomb = pngClaiming(30_000, 30_000);
    expect(bomb.length).toBeLessThan(200);
    await expect(inspectImage(bomb, MAX_PIXELS)).rejects.toThrow(TooManyPixelsError);
    await expect(inspectImage(bomb, MAX_PIXELS)).rejects.toThrow('30000 × 30000 pixels (900 MP); the limit is 40 MP');
  });
});

describe('assertDecodable', () => {
  it('stops a decoder that finds a larger image than the header check saw', async () => {
    const photo = sample('jpg/Canon_40D.jpg'); // 100 × 68
    const header = await readImageHeader(photo, MAX_PIXELS);
    await expect(assertDecodable(photo, header)).resolves.toBeUndefined();
    await expect(assertDecodable(photo, { ...header, width: 10, height: 10 })).rejects.toThrow(UnsupportedTypeError);
  });
});

describe('sniffFormat', () => {
  it('reads the format from the bytes alone', () => {
    expect(sniffFormat(sample('jpg/Canon_40D.jpg'))).toBe('image/jpeg');
    expect(sniffFormat(sample('png/basn6a08.png'))).toBe('image/png');
    expect(sniffFormat(sample('heic/samplefilehub.heif'))).toBe('heif');
    expect(sniffFormat(Buffer.from('  <svg>'))).toBe('svg');
    expect(sniffFormat(Buffer.alloc(0))).toBe('unknown');
  });
});
