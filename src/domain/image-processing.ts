import sharp, { type Sharp } from 'sharp';
import type { ImageContentType } from './image.js';
import { decodedOrRefused, type InspectedImage } from './image-inspector.js';
import { stripMetadata } from './metadata-stripper.js';
import { FileTooLargeError } from './errors.js';
import { formatBytes } from './format.js';
import { messages } from './messages.js';

export interface PublishableImage {
  bytes: Buffer;
  width: number;
  height: number;
}

const THUMBNAIL_SIZE = 320;

const ENCODE: Readonly<Record<ImageContentType, (image: Sharp, quality: number) => Sharp>> = {
  // Plain libjpeg-turbo: mozjpeg's smaller files cost about six times the CPU per re-encode.
  'image/jpeg': (image, quality) => image.jpeg({ quality }),
  'image/png': (image) => image.png({ compressionLevel: 9, adaptiveFiltering: true }),
  'image/gif': (image) => image.gif(),
  'image/webp': (image, quality) => image.webp({ quality }),
};

/**
 * Re-encode qualities, best first: a lower one is tried only if the file would outgrow the
 * limit. Lossless formats get one encode; quality does not change their size.
 */
const QUALITIES: Readonly<Record<ImageContentType, number[]>> = {
  'image/jpeg': [90, 80, 70],
  'image/webp': [90, 80, 70],
  'image/png': [100],
  'image/gif': [100],
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
  limits: { maxPixels: number; maxBytes: number },
): Promise<PublishableImage> {
  // Animations are not rotated (libvips cannot, and cameras do not make them).
  const rotate = inspected.orientation > 1 && inspected.pages === 1;
  if (!rotate) {
    const stripped = stripMetadata(bytes, inspected.contentType);
    if (stripped) return { bytes: stripped, width: inspected.width, height: inspected.height };
  }
  // A re-encoded photo can come out larger than the upload. What is published never exceeds
  // the upload limit: a lower quality where that helps, else the upload is refused.
  let encoded;
  for (const quality of QUALITIES[inspected.contentType]) {
    encoded = await decodedOrRefused(inspected.contentType, () => {
      const image = sharp(bytes, { animated: true, limitInputPixels: limits.maxPixels, failOn: 'error' });
      return ENCODE[inspected.contentType]((rotate ? image.autoOrient() : image).keepIccProfile(), quality).toBuffer({
        resolveWithObject: true,
      });
    });
    if (encoded.data.length <= limits.maxBytes) break;
  }
  const { data, info } = encoded!;
  if (data.length > limits.maxBytes) {
    throw new FileTooLargeError(messages.uprightTooLarge(formatBytes(data.length), formatBytes(limits.maxBytes)));
  }
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
