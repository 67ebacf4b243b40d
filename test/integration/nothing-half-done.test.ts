import request from 'supertest';
import { describe, expect, it } from 'vitest';
import { sample } from '../support/samples.js';
import { mysqlUrl, s3Endpoint } from '../support/services.js';
import { createTestApp, type TestApp } from '../support/test-app.js';

const withS3 = mysqlUrl !== null && s3Endpoint !== null;
const upload = (t: TestApp) =>
  request(t.app).post('/images').field('name', 'Ada').attach('image', sample('jpg/Canon_40D.jpg'), 'a.jpg');

describe('nothing half-done', () => {
  it.runIf(withS3)('S3 unreachable: 503 storage_unavailable, no row, no local copy', async () => {
    const t = await createTestApp('mysql+s3', { S3_ENDPOINT: 'http://127.0.0.1:9' });
    const response = await upload(t);
    expect(response.status).toBe(503);
    expect(response.body.error.code).toBe('storage_unavailable');
    expect(await t.rowCount()).toBe(0);
    expect(await t.uploadedFiles()).toEqual([]);
    const ready = await request(t.app).get('/readyz');
    expect(ready.status).toBe(503);
    expect(ready.body.checks).toMatchObject({
      database: { ok: true },
      storage: { ok: false, error: expect.any(String) },
    });
    await t.close({ skipConsistencyCheck: true });
  });

  it.each([
    { setup: 'mysql+s3' as const, enabled: withS3 },
    { setup: 'sqlite+local' as const, enabled: true },
  ])('database gone ($setup): 503 database_unavailable, object and local copy removed', async ({ setup, enabled }) => {
    if (!enabled) return;
    const t = await createTestApp(setup);
    const keysBefore = await t.storedKeys();
    await t.container.repository.close();
    const response = await upload(t);
    expect(response.status).toBe(503);
    expect(response.body.error).toEqual({
      code: 'database_unavailable',
      message: expect.stringContaining('nothing was saved'),
    });
    expect(await t.storedKeys()).toEqual(keysBefore);
    expect(await t.uploadedFiles()).toEqual([]);
    expect((await request(t.app).get('/readyz')).body.checks.database.ok).toBe(false);
    await t.close({ skipConsistencyCheck: true });
  });
});
