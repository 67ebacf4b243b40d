import type { ImageContentType } from './image.js';
import { formatBytes } from './format.js';

const KIND: Readonly<Record<ImageContentType, string>> = {
  'image/jpeg': 'JPEG',
  'image/png': 'PNG',
  'image/gif': 'GIF',
  'image/webp': 'WebP',
};

/** Everything a user may read when something is refused, in one place. */
export const messages = {
  fileTooLarge: (limit: number) =>
    `The image is larger than the ${formatBytes(limit)} limit. Make it smaller (resize or export at a lower quality) and try again.`,
  uprightTooLarge: (size: string, limit: string) =>
    `Turned upright (its EXIF orientation applied), the image would be ${size}, over the ${limit} limit. Rotate it in a photo editor, save it smaller, and upload that.`,
  tooManyPixels: (width: number, height: number, pixels: string, limit: string) =>
    `The image is ${width} × ${height} pixels (${pixels}); the limit is ${limit}. Resize it and try again.`,
  tooManyFramePixels: (width: number, height: number, frames: number, pixels: string, limit: string) =>
    `The animation has ${frames} frames of ${width} × ${height} pixels (${pixels} in all); the limit is ${limit}. Make it smaller or shorter and try again.`,
  unsupportedType: 'This file is not a JPEG, PNG, GIF or WebP image. Choose an image in one of those formats.',
  svg: 'SVG files are not accepted because they can carry scripts. Export the drawing as PNG and upload that.',
  avif: 'AVIF images are not accepted yet. Export the image as JPEG, PNG or WebP and upload that.',
  heif: 'HEIC/HEIF photos are not supported. Export the photo as JPEG (on an iPhone: Settings › Camera › Formats › Most Compatible) and upload that.',
  undecodable: (type: ImageContentType) =>
    `This file starts like a ${KIND[type]} image but its pixels cannot be read: it is damaged or incomplete. Export it again and retry.`,
  missingFile: 'Choose an image file to upload (form field "image").',
  nameRequired: 'Enter your name (1 to 100 characters).',
  nameTooLong: (max: number) => `Your name is too long: use at most ${max} characters.`,
  nameInvalid: 'Your name contains control characters; use letters, digits, spaces and punctuation.',
  nameDirectionControls:
    'Your name contains invisible text-direction controls (which can disguise text); type it without them.',
  nameRepeated: 'Send the name field once.',
  oneFileOnly: 'Send one image per upload, in the field named "image".',
  unexpectedField: (field: string) =>
    `Unexpected file field "${field}": send the image in the field named "image", one file per upload.`,
  notMultipart:
    'Send the upload as multipart/form-data with the fields "name" and "image" (curl: -F name=Ada -F image=@photo.jpg).',
  malformedMultipart: 'The upload could not be read: the multipart body is malformed or incomplete. Send it again.',
  deleteTokenRequired:
    'Send the delete token shown when the image was uploaded: Authorization: Bearer <token> (or the form on the image page).',
  malformedAuthorization:
    'The Authorization header could not be read: send the delete token as Authorization: Bearer <token>, exactly as it was shown.',
  deleteTokenRepeated: 'Send the deleteToken field once.',
  wrongDeleteToken:
    'That delete token does not match this image. Use the token shown once when the image was uploaded.',
  methodNotAllowed: (method: string, allow: string[]) => `${method} is not supported here; use ${allow.join(' or ')}.`,
  imageNotFound: 'No image has that id. It may have been deleted.',
  pageNotFound: 'There is nothing at this address.',
  badCursor: 'The cursor is not valid: use the nextCursor value from the previous page.',
  badLimit: 'limit must be a whole number from 1 to 100.',
  storageUnavailable: 'Image storage is unavailable right now; nothing was saved. Try again in a minute.',
  databaseOutcomeUnknown:
    'The database did not confirm the upload in time. It may still appear in the gallery in a minute; check there before uploading it again.',
  databaseUnavailable: 'The database is unavailable right now; nothing was saved. Try again in a minute.',
  rateLimited: (perMinute: number, retryAfterSeconds: number) =>
    `Too many uploads from your address (the limit is ${perMinute} a minute). Try again in ${retryAfterSeconds} seconds.`,
  serverBusy: 'The server is busy with other uploads; nothing was saved. Try again in a few seconds.',
  shuttingDown: 'The server is restarting; nothing was saved. Try again in a few seconds.',
  internal:
    'Something went wrong on our side; nothing was saved. Try again, and tell the operator if it keeps happening.',
} as const;
