import { Router } from 'express';
import type { ImageService } from '../domain/image-service.js';
import { answerOtherMethods } from './allowed-methods.js';

/** `/healthz`: the process answers. `/readyz`: the database and the storage answer too. */
export function createHealthRoutes(images: ImageService): Router {
  const router = Router();
  router.get('/healthz', (_req, res) => {
    res.json({ status: 'ok' });
  });
  router.get('/readyz', async (_req, res) => {
    const checks = await images.readiness();
    const ready = checks.database.ok && checks.storage.ok;
    res.status(ready ? 200 : 503).json({ status: ready ? 'ready' : 'unavailable', checks });
  });
  answerOtherMethods(router, [
    ['/healthz', ['GET']],
    ['/readyz', ['GET']],
  ]);
  return router;
}
