import sharp from 'sharp';
import type { ImageContentType } from './image.js';
import { TooManyPixelsError, UnsupportedTypeError } from './errors.js';
import { formatMegapixels } from './format.js';
import { messages } from './messages.js';
import { jpegWithoutHeaderMetadata } from './metadata-stripper.js';
import { readJpegHeader, readPngHeader } from './image-header.js';

export interface InspectedImage {
  contentType: ImageContentType;
  /** As stored in the file, before any EXIF orientation is applied. */
  width: number;
  height: number;
  /** EXIF orientation, 1 (upright) when absent. */
  orientation: number;
  /** Frames: more than 1 for an animation. */
  pages: number;
}

type SniffedFormat = ImageContentType | 'heif' | 'avif' | 'svg' | 'unknown';

const startsWith = (bytes: Buffer, signature: number[], offset = 0) =>
  bytes.length >= offset + signature.length && signature.every((b, i) => bytes[offset + i] === b);
const ascii = (bytes: Buffer, start: number, end: number) => bytes.toString('latin1', start, end);

/** The format the bytes say they are; the client's filename and Content-Type are never asked. */
export function sniffFormat(bytes: Buffer): SniffedFormat {
  if (startsWith(bytes, [0xff, 0xd8, 0xff])) return 'image/jpeg';
  if (startsWith(bytes, [0x89, 0x50, 0x4e, 0x47, 0x0d, 0x0a, 0x1a, 0x0a])) return 'image/png';
  if (ascii(bytes, 0, 6) === 'GIF87a' || ascii(bytes, 0, 6) === 'GIF89a') return 'image/gif';
  if (ascii(bytes, 0, 4) === 'RIFF' && ascii(bytes, 8, 12) === 'WEBP') return 'image/webp';
  if (ascii(bytes, 4, 8) === 'ftyp') {
    const brand = ascii(bytes, 8, 12);
    if (brand === 'avif' || brand === 'avis') return 'avif';
    if (['heic', 'heix', 'hevc', 'hevx', 'heim', 'heis', 'mif1', 'msf1'].includes(brand)) return 'heif';
  }
  if (/^\s*(<\?xml[^>]*>\s*)?(<!--[\s\S]*?-->\s*)*(<!DOCTYPE svg|<svg)/i.test(ascii(bytes, 0, 512))) return 'svg';
  return 'unknown';
}

const SHARP_FORMAT: Readonly<Record<ImageContentType, string>> = {
  'image/jpeg': 'jpeg',
  'image/png': 'png',
  'image/gif': 'gif',
  'image/webp': 'webp',
};

/**
 * Decides what an upload is from its bytes and proves that its pixels decode.
 * @throws UnsupportedTypeError for anything but a decodable JPEG, PNG, GIF or WebP.
 * @throws TooManyPixelsError when the header declares more than `maxPixels` pixels.
 */
export async function inspectImage(bytes: Buffer, maxPixels: number): Promise<InspectedImage> {
  const image = await readImageHeader(bytes, maxPixels);
  await assertDecodable(bytes, image);
  return image;
}

/**
 * What the bytes are and how large, from the header alone: cheap, and enough to refuse a
 * decompression bomb before any pixel is decoded. Does not prove the pixels decode.
 * @throws UnsupportedTypeError, TooManyPixelsError as inspectImage.
 */
export async function readImageHeader(bytes: Buffer, maxPixels: number): Promise<InspectedImage> {
  const format = sniffFormat(bytes);
  if (format === 'heif') throw new UnsupportedTypeError(messages.heif);
  if (format === 'avif') throw new UnsupportedTypeError(messages.avif);
  if (format === 'svg') throw new UnsupportedTypeError(messages.svg);
  if (format === 'unknown') throw new UnsupportedTypeError(messages.unsupportedType);

  const header =
    format === 'image/jpeg' ? readJpegHeader(bytes) : format === 'image/png' ? readPngHeader(bytes) : undefined;
  const { width, height, orientation, pages } = header
    ? { ...header, pages: 1 }
    : await headerFromLibvips(bytes, format);
  // Every frame of an animation is decoded when it is re-encoded, and a GIF's canvas can be far
  // larger than its frames: the limit counts whichever is larger.
  const canvas = format === 'image/gif' ? bytes.readUInt16LE(6) * bytes.readUInt16LE(8) : 0;
  const pixels = Math.max(width * height * pages, canvas);
  if (pixels > maxPixels) {
    throw new TooManyPixelsError(
      pages > 1
        ? messages.tooManyFramePixels(width, height, pages, formatMegapixels(pixels), formatMegapixels(maxPixels))
        : messages.tooManyPixels(
            canvas > width * height ? bytes.readUInt16LE(6) : width,
            canvas > width * height ? bytes.readUInt16LE(8) : height,
            formatMegapixels(pixels),
            formatMegapixels(maxPixels),
          ),
    );
  }
  return { contentType: format, width, height, orientation, pages };
}

async function headerFromLibvips(bytes: Buffer, format: ImageContentType) {
  try {
    // No pixel limit here, so that a bomb is named as one instead of failing in the decoder.
    const meta = await sharp(bytes, { limitInputPixels: false }).metadata();
    if (meta.format !== SHARP_FORMAT[format] || !meta.width || !meta.height)
      throw new Error(`decoded as ${meta.format}`);
    return { width: meta.width, height: meta.height, orientation: meta.orientation ?? 1, pages: meta.pages ?? 1 };
  } catch (cause) {
    throw new UnsupportedTypeError(messages.undecodable(format), { cause });
  }
}

/**
 * Runs `decode` (any sharp pipeline over the upload that reads all of its pixels) and turns
 * a decoder failure into UnsupportedTypeError: damaged or truncated data.
 */
export async function decodedOrRefused<T>(type: ImageContentType, decode: () => Promise<T>): Promise<T> {
  try {
    return await decode();
  } catch (cause) {
    throw new UnsupportedTypeError(messages.undecodable(type), { cause });
  }
}

/**
 * Below this many pixels the raster is decoded as it is: the resize below costs more than it
 * saves, and the raster is at most a few hundred kilobytes.
 */
const DECODE_AS_IS_MAX_PIXELS = 256 * 256;

/** Proves the pixels decode, as cheaply as libvips can: see below. Header already checked. */
export async function assertDecodable(bytes: Buffer, image: InspectedImage): Promise<void> {
  // libvips parses a JPEG's EXIF (libexif) on every load, up to a millisecond for a camera's
  // maker notes; only the pixels matter here, so the decoder gets the file without its
  // metadata segments (the ones STRIP_METADATA drops, too).
  const pixels = image.contentType === 'image/jpeg' ? jpegWithoutHeaderMetadata(bytes) : bytes;
  await decodedOrRefused(image.contentType, () => {
    // The raster is thrown away, so the ICC colour transform would be wasted work.
    // The pixel limit is what the header check saw: should the decoder find a larger image
    // than the header reader did, it stops instead of decoding what was never checked.
    const decoder = sharp(pixels, {
      limitInputPixels: Math.max(1, image.width * image.height),
      failOn: 'error',
      ignoreIcc: true,
    });
    if (image.width * image.height <= DECODE_AS_IS_MAX_PIXELS) return decoder.raw().toBuffer();
    // Decoding to a tiny raster still reads every byte of the compressed data (JPEG and WebP
    // shrink-on-load still walk the whole entropy-coded stream), so truncation and corruption
    // surface here at a fraction of the cost and memory of a full-size decode.
    return decoder.resize(32, 32, { fit: 'inside', kernel: 'nearest' }).raw().toBuffer();
  });
}
