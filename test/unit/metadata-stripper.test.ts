import sharp from 'sharp';
import { describe, expect, it } from 'vitest';
import { jpegWithoutHeaderMetadata } from '../../src/domain/metadata-stripper.js';
import { sample } from '../support/samples.js';

const pixels = (bytes: Buffer) => sharp(bytes).raw().toBuffer();

describe('jpegWithoutHeaderMetadata (what the decode check is given)', () => {
  it('drops EXIF and keeps the pixels bit for bit', async () => {
    const photo = sample('jpg/DSCN0010.jpg');
    const bare = jpegWithoutHeaderMetadata(photo);
    expect(photo.includes('Exif\0\0')).toBe(true);
    expect(bare.includes('Exif\0\0')).toBe(false);
    expect(bare.length).toBeLessThan(photo.length);
    expect((await pixels(bare)).equals(await pixels(photo))).toBe(true);
  });

  it('hands back the same bytes, uncopied, when there is nothing to drop', async () => {
    const plain = await sharp({ create: { width: 8, height: 8, channels: 3, background: '#123' } })
      .jpeg()
      .toBuffer();
    expect(jpegWithoutHeaderMetadata(plain)).toBe(plain);
  });

  it('keeps a truncated file truncated, so that the decoder still refuses it', async () => {
    const photo = sample('jpg/portrait_6.jpg');
    const cut = jpegWithoutHeaderMetadata(photo.subarray(0, photo.length - 5000));
    await expect(sharp(cut, { failOn: 'error' }).raw().toBuffer()).rejects.toThrow();
  });
});
