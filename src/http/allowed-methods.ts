import type { Router } from 'express';
import { MethodNotAllowedError } from '../domain/errors.js';
import { messages } from '../domain/messages.js';

/**
 * Registers, after a router's own routes, the answer for every other method on each path:
 * OPTIONS gets 204 with Allow, anything else 405 with Allow (set by the error handler).
 */
export function answerOtherMethods(router: Router, paths: ReadonlyArray<readonly [string, readonly string[]]>): void {
  for (const [path, allow] of paths) {
    router.all(path, (req, res, next) => {
      if (req.method === 'OPTIONS') {
        res.set('Allow', withHead(allow)).status(204).end();
        return;
      }
      next(new MethodNotAllowedError(messages.methodNotAllowed(req.method, [...allow]), [...allow]));
    });
  }
}

/** Express answers HEAD wherever it answers GET. */
export const withHead = (allow: readonly string[]) => [...allow, ...(allow.includes('GET') ? ['HEAD'] : [])].join(', ');
