import type { RequestHandler } from 'express';
import { rateLimit } from 'express-rate-limit';
import { RateLimitedError } from '../domain/errors.js';
import { messages } from '../domain/messages.js';

/**
 * Limits uploads per client address (the real client behind a proxy when `trust proxy` is
 * set). Refusals go through the one error handler as 429 with Retry-After.
 */
export function createUploadRateLimit(perMinute: number): RequestHandler {
  return rateLimit({
    windowMs: 60_000,
    limit: perMinute,
    standardHeaders: 'draft-8',
    legacyHeaders: false,
    handler: (req, res, next) => {
      const resetTime = (req as { rateLimit?: { resetTime?: Date } }).rateLimit?.resetTime;
      const retryAfter = Math.max(1, Math.ceil(((resetTime?.getTime() ?? Date.now() + 60_000) - Date.now()) / 1000));
      res.set('Retry-After', String(retryAfter));
      next(new RateLimitedError(messages.rateLimited(perMinute, retryAfter), retryAfter));
    },
  });
}
