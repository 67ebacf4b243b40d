import type { ErrorRequestHandler, RequestHandler } from 'express';
import { AppError, MethodNotAllowedError, NotFoundError } from '../domain/errors.js';
import { withHead } from './allowed-methods.js';
import { messages } from '../domain/messages.js';
import { wantsHtml } from './negotiation.js';

export interface ErrorBody {
  status: number;
  code: string;
  message: string;
}

/** What the client is told about any error: ours as they are, anything else as a plain 500. */
export function describeError(error: unknown): ErrorBody {
  if (error instanceof AppError) return { status: error.status, code: error.code, message: error.message };
  // Errors from Express's own layers (a malformed URL, say) carry a 4xx status.
  const status = (error as { status?: unknown })?.status;
  if (typeof status === 'number' && status >= 400 && status < 500) {
    const code = status === 413 ? 'payload_too_large' : status === 415 ? 'unsupported_media_type' : 'bad_request';
    return { status, code, message: (error as Error).message };
  }
  return { status: 500, code: 'internal_error', message: messages.internal };
}

export const notFound: RequestHandler = (_req, _res, next) => {
  next(new NotFoundError(messages.pageNotFound));
};

/** The one place errors become responses: JSON for API clients, a page for browsers. */
export const errorHandler: ErrorRequestHandler = (error, req, res, next) => {
  if (res.headersSent) {
    next(error);
    return;
  }
  const body = describeError(error);
  if (body.status >= 500) req.log.error({ err: error }, 'request failed');
  if (body.status === 401) res.set('WWW-Authenticate', 'Bearer');
  if (error instanceof MethodNotAllowedError) {
    res.set('Allow', withHead(error.allow));
  }
  res.status(body.status);
  if (wantsHtml(req)) res.render('error', { title: `Error ${body.status}`, error: body });
  else res.json({ error: { code: body.code, message: body.message } });
};
