import type { RequestHandler } from 'express';
import multer, { MulterError } from 'multer';
import { BadRequestError, FileTooLargeError } from '../domain/errors.js';
import { messages } from '../domain/messages.js';
import { pooledMemoryStorage, type UploadBufferPool } from './upload-buffers.js';

/**
 * A body declaring more than this many times the limit is refused before a byte is read.
 * Anything smaller is parsed up to the limit, so that the form can be shown again with the
 * name the person typed (multer then discards the rest of the body without buffering it).
 */
const REFUSE_UNREAD_FACTOR = 4;

/**
 * Parses `multipart/form-data` with one file in the field `image`, held in memory (a buffer
 * from `buffers`, to be released by the handler) and never more than `maxUploadBytes`: the
 * limit is enforced while the body streams in, and a body that declares far more than it can
 * hold is refused before it is read.
 */
export function createUploadParser(maxUploadBytes: number, buffers: UploadBufferPool): RequestHandler {
  const parse = multer({
    storage: pooledMemoryStorage(buffers),
    defParamCharset: 'utf8',
    limits: { fileSize: maxUploadBytes, files: 1, fields: 8, fieldSize: 8 * 1024, parts: 10, headerPairs: 50 },
  }).single('image');

  return (req, res, next) => {
    if (!req.is('multipart/form-data')) {
      next(new BadRequestError(messages.notMultipart));
      return;
    }
    const declared = Number(req.get('content-length'));
    if (declared > maxUploadBytes * REFUSE_UNREAD_FACTOR) {
      res.set('Connection', 'close');
      next(new FileTooLargeError(messages.fileTooLarge(maxUploadBytes)));
      return;
    }
    parse(req, res, (error?: unknown) => next(error === undefined ? undefined : translate(error, maxUploadBytes)));
  };
}

function translate(error: unknown, maxUploadBytes: number): unknown {
  if (error instanceof MulterError) {
    switch (error.code) {
      case 'LIMIT_FILE_SIZE':
        return new FileTooLargeError(messages.fileTooLarge(maxUploadBytes), { cause: error });
      case 'LIMIT_UNEXPECTED_FILE':
        return new BadRequestError(
          error.field && error.field !== 'image' ? messages.unexpectedField(error.field) : messages.oneFileOnly,
          { cause: error },
        );
      case 'LIMIT_FILE_COUNT':
        return new BadRequestError(messages.oneFileOnly, { cause: error });
      default:
        return new BadRequestError(`${messages.malformedMultipart} (${error.message})`, { cause: error });
    }
  }
  // Everything else busboy or the socket reports (no boundary, cut-off body, aborted request)
  // is a malformed upload, never a server fault.
  return new BadRequestError(messages.malformedMultipart, { cause: error });
}
