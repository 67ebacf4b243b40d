/**
 * One error class per failure kind. Each carries a stable `code` for API clients and the HTTP
 * `status` it maps to; the single error handler in http/ turns them into responses.
 */
export abstract class AppError extends Error {
  abstract readonly code: string;
  abstract readonly status: number;

  constructor(message: string, options?: { cause?: unknown }) {
    super(message, options);
    this.name = new.target.name;
  }
}

export class BadRequestError extends AppError {
  readonly code = 'bad_request';
  readonly status = 400;
}

export class InvalidNameError extends AppError {
  readonly code = 'invalid_name';
  readonly status = 400;
}

export class MissingFileError extends AppError {
  readonly code = 'missing_file';
  readonly status = 400;
}

export class InvalidQueryError extends AppError {
  readonly code = 'invalid_query';
  readonly status = 400;
}

export class FileTooLargeError extends AppError {
  readonly code = 'file_too_large';
  readonly status = 413;
}

/** A small file that declares more pixels than we are willing to decode (decompression bomb). */
export class TooManyPixelsError extends AppError {
  readonly code = 'too_many_pixels';
  readonly status = 413;
}

export class UnsupportedTypeError extends AppError {
  readonly code = 'unsupported_type';
  readonly status = 415;
}

export class MethodNotAllowedError extends AppError {
  readonly code = 'method_not_allowed';
  readonly status = 405;

  constructor(
    message: string,
    readonly allow: string[],
  ) {
    super(message);
  }
}

export class NotFoundError extends AppError {
  readonly code = 'not_found';
  readonly status = 404;
}

export class StorageUnavailableError extends AppError {
  readonly code = 'storage_unavailable';
  readonly status = 503;
}

export class DatabaseUnavailableError extends AppError {
  readonly code = 'database_unavailable';
  readonly status = 503;

  /**
   * True when a write was sent but the database never said whether it was kept: the stored
   * objects must then stay (reconcile removes them later if no row appears).
   */
  constructor(message: string, options?: { cause?: unknown; outcomeUnknown?: boolean }) {
    super(message, options);
    this.outcomeUnknown = options?.outcomeUnknown ?? false;
  }

  readonly outcomeUnknown: boolean;
}

export class ServerBusyError extends AppError {
  readonly code = 'server_busy';
  readonly status = 503;
}

export class ShuttingDownError extends AppError {
  readonly code = 'shutting_down';
  readonly status = 503;
}

export class RateLimitedError extends AppError {
  readonly code = 'rate_limited';
  readonly status = 429;

  constructor(
    message: string,
    readonly retryAfterSeconds: number,
  ) {
    super(message);
  }
}

export class DeleteTokenRequiredError extends AppError {
  readonly code = 'delete_token_required';
  readonly status = 401;
}

export class ForbiddenError extends AppError {
  readonly code = 'forbidden';
  readonly status = 403;
}
