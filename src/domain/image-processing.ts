import sharp, { type Sharp } from 'sharp';
import type { ImageContentType } from './image.js';
import { decodedOrRefused, type InspectedImage } from './image-inspector.js';
import { stripMetadata } from './metadata-stripper.js';

export interface PublishableImage {
  bytes: Buffer;
  width: number;
  height: number;
}

const THUMBNAIL_SIZE = 320;

const ENCODE: Readonly<Record<ImageContentType, (image: Sharp) => Sharp>> = {
  // Plain libjpeg-turbo: mozjpeg's smaller files cost about six times the CPU per re-encode.
  'image/jpeg': (image) => image.jpeg({ quality: 90 }),
  'image/png': (image) => image.png(),
  'image/gif': (image) => image.gif(),
  'image/webp': (image) => image.webp({ quality: 90 }),
};

/**
 * The bytes to publish with location, device and time metadata removed. Upright images are
 * stripped losslessly (metadata containers dropped, pixels untouched); an EXIF orientation
 * other than 1 is applied to the pixels, which needs one re-encode, so that the image shows
 * upright everywhere once the tag is gone. ICC colour profiles are kept either way.
 */
export async function withoutMetadata(
  bytes: Buffer,
  inspected: InspectedImage,
  maxPixels: number,
): Promise<PublishableImage> {
  // Animations are not rotated (libvips cannot, and cameras do not make them).
  const rotate = inspected.orientation > 1 && inspected.pages === 1;
  if (!rotate) {
    const stripped = stripMetadata(bytes, inspected.contentType);
    if (stripped) return { bytes: stripped, width: inspected.width, height: inspected.height };
  }
  const { data, info } = await decodedOrRefused(inspected.contentType, () => {
    const image = sharp(bytes, { animated: true, limitInputPixels: maxPixels, failOn: 'error' });
    return ENCODE[inspected.contentType]((rotate ? image.autoOrient() : image).keepIccProfile()).toBuffer({
      resolveWithObject: true,
    });
  });
  return { bytes: data, width: info.width, height: info.pageHeight ?? info.height };
}

/**
 * A small upright WebP of the first frame, at most 320 px on the long side. Making it reads
 * every pixel, so it also proves the upload decodes (no separate check is needed).
 * @throws UnsupportedTypeError when the pixels cannot be decoded.
 */
export async function thumbnailOf(bytes: Buffer, type: ImageContentType, maxPixels: number): Promise<Buffer> {
  return decodedOrRefused(type, () =>
    sharp(bytes, { limitInputPixels: maxPixels, failOn: 'error' })
      .autoOrient()
      .resize(THUMBNAIL_SIZE, THUMBNAIL_SIZE, { fit: 'inside', withoutEnlargement: true })
      .webp({ quality: 75, effort: 1 })
      .toBuffer(),
  );
}
