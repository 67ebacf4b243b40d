import request from 'supertest';
import { afterAll, afterEach, beforeAll, describe, expect, it } from 'vitest';
import { startFaultInjectingS3, type S3Fault } from '../support/fault-injecting-s3.js';
import { sample } from '../support/samples.js';
import { mysqlUrl, s3Endpoint } from '../support/services.js';
import { createTestApp, type TestApp } from '../support/test-app.js';

const upload = (t: TestApp) =>
  request(t.app).post('/images').field('name', 'Ada').attach('image', sample('jpg/Canon_40D.jpg'), 'a.jpg');

describe.runIf(mysqlUrl !== null && s3Endpoint !== null)(
  'S3 faults and what only AWS does (s3rver behind a fault-injecting endpoint)',
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

    it('sends the detected type, public-read ACL, long Cache-Control and a signed SHA-256 of a plain body', async () => {
      const response = await upload(t);
      expect(response.status).toBe(201);
      const put = s3.requests.find((r) => r.method === 'PUT' && r.url.includes(response.body.key))!;
      expect(put.headers).toMatchObject({
        'content-type': 'image/jpeg',
        'x-amz-acl': 'public-read',
        'cache-control': 'public, max-age=31536000, immutable',
        'content-length': String(response.body.size),
        'x-amz-content-sha256': response.body.sha256,
      });
      expect(put.headers['content-encoding']).toBeUndefined();
      // The signed payload hash is the integrity check; a second checksum would be hashed twice.
      expect(put.headers['x-amz-checksum-sha256']).toBeUndefined();
    });

    it('a bucket with ACLs disabled: 503 naming S3_ACL=none, nothing stored', async () => {
      s3.inject({ kind: 'acl-not-supported' });
      const [rows, files, keys] = [await t.rowCount(), await t.uploadedFiles(), await t.storedKeys()];
      const response = await upload(t);
      expect(response.status).toBe(503);
      expect(response.body.error).toEqual({
        code: 'storage_unavailable',
        message: expect.stringContaining('S3_ACL=none'),
      });
      const ready = await request(t.app).get('/readyz');
      expect(ready.status).toBe(503);
      expect(ready.body.checks.storage.error).toContain('S3_ACL=none');
      expect(await t.rowCount()).toBe(rows);
      expect(await t.uploadedFiles()).toEqual(files);
      expect(await t.storedKeys()).toEqual(keys);
    });

    it('S3_ACL=none sends no ACL, so such a bucket takes the upload', async () => {
      const noAcl = await createTestApp('mysql+s3', { S3_ENDPOINT: s3.endpoint, S3_ACL: 'none' });
      s3.inject({ kind: 'acl-not-supported' });
      const response = await upload(noAcl);
      expect(response.status).toBe(201);
      const put = s3.requests.find((r) => r.method === 'PUT' && r.url.includes(response.body.key))!;
      expect(put.headers['x-amz-acl']).toBeUndefined();
      await noAcl.close();
    });

    it('a bucket in another region: 503 naming S3_REGION and the right region, and /readyz says so', async () => {
      s3.inject({ kind: 'permanent-redirect', region: 'eu-central-1' });
      const rows = await t.rowCount();
      const response = await upload(t);
      expect(response.status).toBe(503);
      expect(response.body.error.message).toContain('S3_REGION');
      expect(response.body.error.message).toContain('eu-central-1');
      expect(await t.rowCount()).toBe(rows);
      const ready = await request(t.app).get('/readyz');
      expect(ready.status).toBe(503);
      expect(ready.body.checks.storage.error).toContain('S3_REGION');
    });
  },
);
