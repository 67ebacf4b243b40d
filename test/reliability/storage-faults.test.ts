import request from 'supertest';
import { afterAll, afterEach, beforeAll, describe, expect, it } from 'vitest';
import { startFaultInjectingS3, type S3Fault } from '../support/fault-injecting-s3.js';
import { sample } from '../support/samples.js';
import { mysqlUrl, s3Endpoint } from '../support/services.js';
import { createTestApp, type TestApp } from '../support/test-app.js';

const upload = (t: TestApp) =>
  request(t.app).post('/images').field('name', 'Ada').attach('image', sample('jpg/Canon_40D.jpg'), 'a.jpg');

describe.runIf(mysqlUrl !== null && s3Endpoint !== null)(
  'storage faults (s3rver behind a fault-injecting endpoint)',
  () => {
    let s3: Awaited<ReturnType<typeof startFaultInjectingS3>>;
    let t: TestApp;
    beforeAll(async () => {
      s3 = await startFaultInjectingS3(s3Endpoint!);
      t = await createTestApp('mysql+s3', { S3_ENDPOINT: s3.endpoint });
    });
    afterEach(() => s3.inject(undefined));
    afterAll(async () => {
      await t.close();
      await s3.close();
    });

    it.each<[string, S3Fault]>([
      ['down (connections cut)', { kind: 'connection-reset' }],
      ['failing (500 InternalError on every try)', { kind: 'internal-error' }],
    ])('S3 endpoint %s: 503 storage_unavailable, no row, no local copy; recovers by itself', async (_label, fault) => {
      const [rows, files] = [await t.rowCount(), await t.uploadedFiles()];
      s3.inject(fault);
      const failed = await upload(t);
      expect(failed.status).toBe(503);
      expect(failed.body.error.code).toBe('storage_unavailable');
      expect(await t.rowCount()).toBe(rows);
      expect(await t.uploadedFiles()).toEqual(files);
      expect((await request(t.app).get('/readyz')).status).toBe(503);

      s3.inject(undefined);
      expect((await upload(t)).status).toBe(201);
      expect((await request(t.app).get('/readyz')).status).toBe(200);
      expect(await t.inconsistencies()).toEqual([]);
    });

    it('the HTML form gets the 503 page with the name kept', async () => {
      s3.inject({ kind: 'connection-reset' });
      const response = await request(t.app)
        .post('/images')
        .set('Accept', 'text/html')
        .field('name', 'Ada')
        .attach('image', sample('jpg/Canon_40D.jpg'), 'a.jpg');
      expect(response.status).toBe(503);
      expect(response.text).toContain('nothing was saved');
      expect(response.text).toContain('value="Ada"');
    });
  },
);
