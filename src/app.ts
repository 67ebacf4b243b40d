import path from 'node:path';
import { fileURLToPath } from 'node:url';
import express, { type Express } from 'express';
import helmet from 'helmet';
import { pinoHttp } from 'pino-http';
import type { Logger } from 'pino';
import { randomUUID } from 'node:crypto';
import type { Config } from './config/config.js';
import type { ImageService } from './domain/image-service.js';
import { ShuttingDownError } from './domain/errors.js';
import { formatBytes } from './domain/format.js';
import { messages } from './domain/messages.js';
import { answerOtherMethods } from './http/allowed-methods.js';
import { errorHandler, notFound } from './http/error-handler.js';
import { createHealthRoutes } from './http/health-routes.js';
import { createImageRoutes } from './http/image-routes.js';
import { createUploadRateLimit } from './http/upload-rate-limit.js';

const ROOT = path.resolve(path.dirname(fileURLToPath(import.meta.url)), '..');

export interface AppOptions {
  config: Pick<
    Config,
    | 'maxUploadBytes'
    | 'publicBaseUrl'
    | 'trustProxy'
    | 'uploadsPerMinute'
    | 'uploadConcurrency'
    | 'uploadQueueLimit'
    | 'uploadBodyTimeoutMs'
  >;
  services: { images: ImageService };
  logger: Logger;
  /** Where images may be loaded from besides this app (the bucket's or CDN's origin). */
  imageOrigins?: string[];
  /** Serve this folder at /uploads (when images are kept on local disk). */
  uploadsDir?: string;
  /** Set `draining` when shutting down: new uploads are then refused with 503. */
  lifecycle?: { draining: boolean };
}

/** Builds the Express app; it does not listen (main.ts does, tests use supertest). */
export function createApp({ config, services, logger, imageOrigins = [], uploadsDir, lifecycle }: AppOptions): Express {
  const app = express();
  app.disable('x-powered-by');
  app.set('trust proxy', config.trustProxy);
  app.set('views', path.join(ROOT, 'views'));
  app.set('view engine', 'ejs');
  app.locals.formatBytes = formatBytes;
  app.locals.maxUploadBytes = config.maxUploadBytes;

  app.use(
    pinoHttp({
      logger,
      genReqId: (req, res) => {
        const incoming = req.headers['x-request-id'];
        const id = typeof incoming === 'string' && /^[\w.-]{1,64}$/.test(incoming) ? incoming : randomUUID();
        res.setHeader('X-Request-Id', id);
        return id;
      },
      customLogLevel: (_req, res, error) => (error || res.statusCode >= 500 ? 'error' : 'info'),
      // Health checks run every few seconds; logging each would drown the uploads.
      autoLogging: { ignore: (req) => req.url === '/healthz' || req.url === '/readyz' },
      // What a request line needs, and nothing a client sent in headers (tokens, cookies).
      serializers: {
        req: (req: { id: unknown; method: string; url: string; remoteAddress?: string }) => ({
          id: req.id,
          method: req.method,
          url: req.url,
          remoteAddress: req.remoteAddress,
        }),
        res: (res: { statusCode: number }) => ({ statusCode: res.statusCode }),
      },
    }),
  );
  app.use(
    helmet({
      contentSecurityPolicy: {
        directives: {
          imgSrc: ["'self'", 'data:', 'blob:', ...imageOrigins],
          formAction: ["'self'"],
          // Plain-HTTP deployments (the original runs on an EC2 address) would lose every asset.
          upgradeInsecureRequests: null,
        },
      },
      crossOriginEmbedderPolicy: false,
      // Images are meant to be embedded on other sites.
      crossOriginResourcePolicy: { policy: 'cross-origin' },
    }),
  );

  app.use(express.static(path.join(ROOT, 'public'), { maxAge: '1h', index: false }));
  if (uploadsDir) {
    app.use(
      '/uploads',
      express.static(uploadsDir, { maxAge: '365d', immutable: true, index: false, dotfiles: 'ignore' }),
    );
    const uploadsMethods = express.Router();
    // A GET the folder could not answer is a missing file: 404 from the handler at the end.
    uploadsMethods.get('/uploads/*key', (_req, _res, next) => next('router'));
    answerOtherMethods(uploadsMethods, [['/uploads/*key', ['GET']]]);
    app.use(uploadsMethods);
  }

  if (lifecycle) {
    app.post('/images', (req, res, next) => {
      if (!lifecycle.draining) return next();
      res.set('Connection', 'close');
      // Answer once the body is in (discarded): a client still sending when the socket
      // closes sees EPIPE, not the 503 that tells it to retry.
      let answered = false;
      const answer = () => {
        if (answered) return;
        answered = true;
        next(new ShuttingDownError(messages.shuttingDown));
      };
      if (req.readableEnded) return answer();
      req.once('end', answer).once('close', answer).resume();
    });
  }
  if (config.uploadsPerMinute > 0) app.post('/images', createUploadRateLimit(config.uploadsPerMinute));
  app.use(createHealthRoutes(services.images));
  app.use(
    createImageRoutes({
      images: services.images,
      maxUploadBytes: config.maxUploadBytes,
      uploadGate: {
        slots: config.uploadConcurrency,
        queueLimit: config.uploadQueueLimit,
        bodyTimeoutMs: config.uploadBodyTimeoutMs,
      },
      publicBaseUrl: config.publicBaseUrl,
    }),
  );
  app.use(notFound);
  app.use(errorHandler);
  return app;
}
