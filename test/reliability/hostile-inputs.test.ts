// Attacks a tester found to get through, each kept here so it stays fixed.
import Database from 'better-sqlite3';
import mysql from 'mysql2/promise';
import sharp from 'sharp';
import request from 'supertest';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { startFaultInjectingS3 } from '../support/fault-injecting-s3.js';
import {
  jpegClaiming,
  jpegHidingItsSize,
  jpegWithEndMarkerInACommentBetweenScans,
  jpegWithExifAfterTheScan,
  jpegShowingAnother,
  jpegWithTwoOrientations,
} from '../support/hostile-jpegs.js';
import { animatedWebpClaiming, generatedImage } from '../support/images.js';
import { sample } from '../support/samples.js';
import { mysqlUrl, s3Endpoint } from '../support/services.js';
import { createTestApp, type TestApp } from '../support/test-app.js';

const withServices = mysqlUrl !== null && s3Endpoint !== null;
const upload = (t: TestApp, bytes: Buffer, filename = 'a.jpg') =>
  request(t.app).post('/images').field('name', 'Mallory').attach('image', bytes, filename);

describe('hostile images (SQLite + local disk)', () => {
  let t: TestApp;
  beforeAll(async () => {
    t = await createTestApp('sqlite+local');
  });
  afterAll(async () => {
    await t.close();
  });

  it('an animation whose frames add up past the pixel limit: 413 before decoding, even with junk after it', async () => {
    const bomb = Buffer.concat([await animatedWebpClaiming(3000, 3000, 20), Buffer.from('JUNK')]);
    expect(bomb.length).toBeLessThan(100_000);
    const started = Date.now();
    const response = await upload(t, bomb, 'bomb.webp');
    expect(response.status).toBe(413);
    expect(response.body.error).toEqual({ code: 'too_many_pixels', message: expect.stringContaining('20 frames') });
    expect(Date.now() - started).toBeLessThan(5_000);
    expect(await t.uploadedFiles()).toEqual([]);
  });

  it('a GIF whose canvas is far larger than its frame: 413', async () => {
    const gif = Buffer.from(await generatedImage('gif', 64, 64));
    gif.writeUInt16LE(65535, 6);
    gif.writeUInt16LE(65535, 8);
    const response = await upload(t, gif, 'canvas.gif');
    expect(response.status).toBe(413);
    expect(response.body.error.code).toBe('too_many_pixels');
  });

  it('an animated WebP with an EXIF orientation: accepted, animation kept (was a 500)', async () => {
    const frame = (background: string) =>
      sharp({ create: { width: 40, height: 30, channels: 3, background } })
        .png()
        .toBuffer();
    const animated = await sharp(await Promise.all(['red', 'blue'].map(frame)), { join: { animated: true } })
      .withMetadata({ orientation: 6 })
      .webp({ loop: 0 })
      .toBuffer();
    const response = await upload(t, animated, 'anim.webp');
    expect(response.status).toBe(201);
    const published = (await request(t.app).get(new URL(response.body.url).pathname).responseType('blob'))
      .body as Buffer;
    const meta = await sharp(published, { animated: true }).metadata();
    expect(meta.pages).toBe(2);
    expect(meta.exif).toBeUndefined();
  });

  it('a rotated photo re-encoded to stand upright is still published within the upload limit', async () => {
    const noise = await sharp({
      create: {
        width: 1400,
        height: 1300,
        channels: 3,
        background: '#000',
        noise: { type: 'gaussian', mean: 128, sigma: 60 },
      },
    })
      .jpeg({ quality: 72 })
      .withMetadata({ orientation: 6 })
      .toBuffer();
    expect(noise.length).toBeGreaterThan(600_000);
    expect(noise.length).toBeLessThanOrEqual(1_048_576);
    const response = await upload(t, noise, 'rotated.jpg');
    expect(response.status).toBe(201);
    expect(response.body).toMatchObject({ width: 1300, height: 1400 });
    expect(response.body.size).toBeLessThanOrEqual(1_048_576);
  });

  it('a rotated photo that cannot be turned upright within the limit is refused, nothing stored', async () => {
    const noise = await sharp({
      create: {
        width: 2600,
        height: 2600,
        channels: 3,
        background: '#000',
        noise: { type: 'gaussian', mean: 128, sigma: 120 },
      },
    })
      .jpeg({ quality: 12 })
      .withMetadata({ orientation: 6 })
      .toBuffer();
    expect(noise.length).toBeLessThanOrEqual(1_048_576);
    const files = await t.uploadedFiles();
    const response = await upload(t, noise, 'rotated.jpg');
    expect(response.status).toBe(413);
    expect(response.body.error).toEqual({ code: 'file_too_large', message: expect.stringContaining('Turned upright') });
    expect(await t.uploadedFiles()).toEqual(files);
  });

  it('data after the end of a JPEG (an appended image with its own EXIF, or HTML) is not published', async () => {
    const main = await sharp({ create: { width: 64, height: 64, channels: 3, background: '#336' } })
      .jpeg()
      .toBuffer();
    const appended = await sharp({ create: { width: 16, height: 16, channels: 3, background: '#633' } })
      .withExif({ IFD0: { Artist: 'CANARY-ARTIST' } })
      .jpeg()
      .toBuffer();
    const polyglot = Buffer.concat([main, appended, Buffer.from('<html><script>alert(1)</script></html>')]);
    const response = await upload(t, polyglot);
    expect(response.status).toBe(201);
    const published = (await request(t.app).get(new URL(response.body.url).pathname).responseType('blob'))
      .body as Buffer;
    expect(published.includes(Buffer.from('CANARY-ARTIST'))).toBe(false);
    expect(published.includes(Buffer.from('<script>'))).toBe(false);
    expect(published.subarray(-2)).toEqual(Buffer.from([0xff, 0xd9]));
  });

  it('a delete-token cookie that does not decode is ignored (was a 500)', async () => {
    const created = await upload(t, sample('png/basn0g01.png'), 'a.png');
    const page = await request(t.app)
      .get(`/images/${created.body.id}`)
      .set('Accept', 'text/html')
      .set('Cookie', `snapstore_delete_${created.body.id.replace(/-/g, '')}=%zz`);
    expect(page.status).toBe(200);
    expect(page.headers.vary).toMatch(/Accept/);
  });

  it('a locked SQLite file: 503 within a moment, without stalling the server (was 5 s per write)', async () => {
    const blocker = new Database(t.config.database.driver === 'sqlite' ? t.config.database.file : '');
    blocker.exec('BEGIN IMMEDIATE');
    try {
      const started = Date.now();
      const response = await upload(t, sample('png/basn0g01.png'), 'a.png');
      expect(response.status).toBe(503);
      expect(response.body.error.code).toBe('database_unavailable');
      expect(Date.now() - started).toBeLessThan(3_000);
    } finally {
      blocker.exec('ROLLBACK');
      blocker.close();
    }
  });

  it('a file where the thumbnails folder should be: 503 storage_unavailable, not 500', async () => {
    const other = await createTestApp('sqlite+local');
    const { writeFile, rm } = await import('node:fs/promises');
    const path = await import('node:path');
    await rm(path.join(other.uploadDir, 'thumbs'), { recursive: true, force: true });
    await writeFile(path.join(other.uploadDir, 'thumbs'), 'not a folder');
    const response = await upload(other, sample('png/basn0g01.png'), 'a.png');
    expect(response.status).toBe(503);
    expect(response.body.error.code).toBe('storage_unavailable');
    await rm(path.join(other.uploadDir, 'thumbs'));
    expect(await other.uploadedFiles()).toEqual([]);
    await other.close();
  });
});

describe('methods and readiness', () => {
  it('answers 405 with Allow for methods a path does not take', async () => {
    const t = await createTestApp('sqlite+local');
    const put = await request(t.app).put('/images').send('x');
    expect(put.status).toBe(405);
    expect(put.headers.allow).toBe('GET, POST, HEAD');
    expect(put.body.error.code).toBe('method_not_allowed');
    expect((await request(t.app).patch('/images/0190a0a0-0000-7000-8000-000000000000')).status).toBe(405);
    const getDelete = await request(t.app).get('/images/0190a0a0-0000-7000-8000-000000000000/delete');
    expect(getDelete.status).toBe(405);
    expect(getDelete.headers.allow).toBe('POST');
    expect((await request(t.app).get('/no-such-page')).status).toBe(404);
    await t.close();
  });

  it('health endpoints take GET only, and OPTIONS says what every path takes', async () => {
    const t = await createTestApp('sqlite+local');
    for (const path of ['/healthz', '/readyz']) {
      const post = await request(t.app).post(path);
      expect(post.status).toBe(405);
      expect(post.headers.allow).toBe('GET, HEAD');
    }
    for (const [path, allow] of [
      ['/', 'GET, HEAD'],
      ['/images', 'GET, POST, HEAD'],
      ['/images/0190a0a0-0000-7000-8000-000000000000', 'GET, DELETE, HEAD'],
      ['/images/0190a0a0-0000-7000-8000-000000000000/delete', 'POST'],
      ['/healthz', 'GET, HEAD'],
      ['/readyz', 'GET, HEAD'],
    ]) {
      const options = await request(t.app).options(path!);
      expect({ path, status: options.status, allow: options.headers.allow }).toEqual({ path, status: 204, allow });
    }
    await t.close();
  });

  it('/uploads/:key (images on local disk) takes GET and HEAD: 405 for the rest, 404 for a missing file', async () => {
    const t = await createTestApp('sqlite+local');
    const uploaded = await upload(t, sample('png/basn0g01.png'), 'a.png');
    expect(uploaded.status).toBe(201);
    const key = new URL(uploaded.body.url, 'http://x').pathname;
    expect(key).toMatch(/^\/uploads\//);
    expect((await request(t.app).get(key)).status).toBe(200);
    expect((await request(t.app).head(key)).status).toBe(200);
    for (const path of [key, '/uploads/no-such-file.png']) {
      const options = await request(t.app).options(path);
      expect({ status: options.status, allow: options.headers.allow }).toEqual({ status: 204, allow: 'GET, HEAD' });
      for (const method of ['post', 'put', 'delete'] as const) {
        const response = await request(t.app)[method](path);
        expect({ path, method, status: response.status, allow: response.headers.allow }).toEqual({
          path,
          method,
          status: 405,
          allow: 'GET, HEAD',
        });
      }
    }
    const missing = await request(t.app).get('/uploads/no-such-file.png');
    expect(missing.status).toBe(404);
    expect(missing.body.error.code).toBe('not_found');
    expect((await request(t.app).get(key)).status).toBe(200);
    await t.close();
  });

  it('/readyz notices a thumbnails folder it can no longer write to', async () => {
    const t = await createTestApp('sqlite+local');
    expect((await upload(t, sample('png/basn0g01.png'), 'a.png')).status).toBe(201);
    const { rename, writeFile, rm } = await import('node:fs/promises');
    const path = await import('node:path');
    const thumbs = path.join(t.uploadDir, 'thumbs');
    await rename(thumbs, `${thumbs}-away`);
    await writeFile(thumbs, 'not a folder');
    const ready = await request(t.app).get('/readyz');
    expect(ready.status).toBe(503);
    expect(ready.body.checks.storage.error).toContain('not writable');
    await rm(thumbs);
    await rename(`${thumbs}-away`, thumbs);
    expect((await request(t.app).get('/readyz')).status).toBe(200);
    await t.close();
  });
});

describe.runIf(withServices)('MySQL and S3 faults a tester found', () => {
  it('an insert that times out behind a table lock is killed: never a row without its object', async () => {
    const t = await createTestApp('mysql+s3', { DB_QUERY_TIMEOUT_MS: '800' });
    const database = new URL(t.config.database.driver === 'mysql' ? t.config.database.url : '').pathname.slice(1);
    const admin = await mysql.createConnection({ uri: mysqlUrl! });
    await admin.query(`LOCK TABLES \`${database}\`.images WRITE`);
    const response = await upload(t, sample('jpg/Canon_40D.jpg'));
    expect(response.status).toBe(503);
    expect(response.body.error.code).toBe('database_unavailable');
    await admin.query('UNLOCK TABLES');
    await admin.end();
    await new Promise((resolve) => setTimeout(resolve, 500));
    // The killed insert never lands; any objects left behind are orphans for reconcile.
    expect(await t.rowCount()).toBe(0);
    const problems = await t.inconsistencies();
    expect(problems.filter((p) => p.includes('row without object'))).toEqual([]);
    for (const store of t.container.stores) for await (const key of store.listKeys()) await store.delete(key);
    await t.close();
  });

  it('the images table gone: uploads and /readyz say 503, without naming users or hosts', async () => {
    const t = await createTestApp('mysql+s3');
    const database = new URL(t.config.database.driver === 'mysql' ? t.config.database.url : '').pathname.slice(1);
    const admin = await mysql.createConnection({ uri: mysqlUrl! });
    await admin.query(`RENAME TABLE \`${database}\`.images TO \`${database}\`.images_away`);
    const response = await upload(t, sample('jpg/Canon_40D.jpg'));
    expect(response.status).toBe(503);
    expect(response.body.error.code).toBe('database_unavailable');
    const ready = await request(t.app).get('/readyz');
    expect(ready.status).toBe(503);
    expect(ready.body.checks.database.error).toContain('ER_NO_SUCH_TABLE');
    expect(JSON.stringify(ready.body)).not.toMatch(/@|root/);
    await admin.query(`RENAME TABLE \`${database}\`.images_away TO \`${database}\`.images`);
    await admin.end();
    await t.close();
  });

  it('S3 that takes requests and never answers: 503 within the S3 timeout, and /readyz answers in seconds', async () => {
    const s3 = await startFaultInjectingS3(s3Endpoint!);
    const t = await createTestApp('mysql+s3', { S3_ENDPOINT: s3.endpoint, S3_REQUEST_TIMEOUT_MS: '300' });
    s3.inject({ kind: 'hang' });
    const started = Date.now();
    const response = await upload(t, sample('jpg/Canon_40D.jpg'));
    expect(response.status).toBe(503);
    expect(response.body.error.code).toBe('storage_unavailable');
    expect(Date.now() - started).toBeLessThan(10_000);
    const readyStarted = Date.now();
    expect((await request(t.app).get('/readyz')).status).toBe(503);
    expect(Date.now() - readyStarted).toBeLessThan(5_000);
    s3.inject(undefined);
    await t.close();
    await s3.close();
  });

  it('DELETE while S3 is down: 503, the image stays listed, and the same DELETE works once S3 is back', async () => {
    const s3 = await startFaultInjectingS3(s3Endpoint!);
    const t = await createTestApp('mysql+s3', { S3_ENDPOINT: s3.endpoint });
    const created = await upload(t, sample('jpg/Canon_40D.jpg'));
    s3.inject({ kind: 'connection-reset' });
    const auth = `Bearer ${created.body.deleteToken}`;
    const failed = await request(t.app).delete(`/images/${created.body.id}`).set('Authorization', auth);
    expect(failed.status).toBe(503);
    expect((await request(t.app).get(`/images/${created.body.id}`)).status).toBe(200);
    s3.inject(undefined);
    expect((await request(t.app).delete(`/images/${created.body.id}`).set('Authorization', auth)).status).toBe(204);
    expect(await t.rowCount()).toBe(0);
    await t.close();
    await s3.close();
  });
});

// A header walk that differs from libjpeg's must never decide what is checked or published.
describe.each([
  { STRIP_METADATA: 'true', THUMBNAILS: 'true' },
  { STRIP_METADATA: 'false', THUMBNAILS: 'false' },
  { STRIP_METADATA: 'true', THUMBNAILS: 'false' },
  { STRIP_METADATA: 'false', THUMBNAILS: 'true' },
])('JPEG headers read as libjpeg reads them (STRIP_METADATA=$STRIP_METADATA, THUMBNAILS=$THUMBNAILS)', (env) => {
  let t: TestApp;
  beforeAll(async () => {
    t = await createTestApp('sqlite+local', env);
  });
  afterAll(async () => {
    await t.close();
  });
  const fetchBytes = async (url: string) =>
    (await request(t.app).get(new URL(url, 'http://x').pathname).responseType('blob')).body as Buffer;

  /** What was published is what the 201 says, decodes, and carries no EXIF when stripping. */
  async function expectHonest(response: request.Response) {
    expect(response.status).toBe(201);
    const bytes = await fetchBytes(response.body.url);
    const meta = await sharp(bytes).metadata();
    // The stored pixels' size (upright once stripped: the orientation is then applied).
    expect({ width: response.body.width, height: response.body.height }).toEqual({
      width: meta.width,
      height: meta.height,
    });
    await expect(sharp(bytes, { failOn: 'error' }).raw().toBuffer()).resolves.toBeDefined();
    if (env.STRIP_METADATA === 'true') {
      expect(bytes.includes('Exif\0\0')).toBe(false);
      expect(meta.orientation ?? 1).toBe(1);
    }
    return bytes;
  }

  it('a size hidden behind a length-less marker is the size recorded', async () => {
    const real = await sharp({ create: { width: 1200, height: 800, channels: 3, background: '#36c' } })
      .jpeg()
      .toBuffer();
    await expectHonest(await upload(t, jpegHidingItsSize(real)));
  });

  it('a 900 MP frame hidden the same way is refused with 413, whatever a stripped copy would look like', async () => {
    const small = await sharp({ create: { width: 64, height: 64, channels: 3, background: '#e22' } })
      .jpeg()
      .toBuffer();
    const files = await t.uploadedFiles();
    const response = await upload(t, jpegShowingAnother(small, await jpegClaiming(30_000, 30_000)));
    expect(response.status).toBe(413);
    expect(response.body.error.code).toBe('too_many_pixels');
    expect(await t.uploadedFiles()).toEqual(files);
  });

  it('the thumbnail shows the published picture', async () => {
    const red = await sharp({ create: { width: 64, height: 64, channels: 3, background: '#e22' } })
      .jpeg()
      .toBuffer();
    const blue = await sharp({ create: { width: 300, height: 200, channels: 3, background: '#22e' } })
      .jpeg()
      .toBuffer();
    const response = await upload(t, jpegShowingAnother(red, blue));
    const bytes = await expectHonest(response);
    if (response.body.thumbnailUrl) {
      const published = await sharp(bytes).stats();
      const thumbnail = await sharp(await fetchBytes(response.body.thumbnailUrl)).stats();
      expect(thumbnail.dominant).toEqual(published.dominant);
    }
  });

  it("a photo's GPS hidden behind a length-less marker is still removed", async () => {
    await expectHonest(await upload(t, jpegHidingItsSize(sample('jpg/DSCN0010.jpg'))));
  });

  it('segments between scans are walked: what is published is the picture libjpeg shows', async () => {
    const original = await jpegWithEndMarkerInACommentBetweenScans();
    const bytes = await expectHonest(await upload(t, original));
    const [published, shown] = await Promise.all([sharp(bytes).stats(), sharp(original).stats()]);
    expect(published.dominant).toEqual(shown.dominant);
  });

  it('EXIF after the scan is removed too', async () => {
    const bytes = await expectHonest(await upload(t, await jpegWithExifAfterTheScan()));
    if (env.STRIP_METADATA === 'true') expect(bytes.includes('LeakyCam')).toBe(false);
  });

  it.each([
    [6, 1],
    [1, 6],
  ])('an Orientation tag given twice (%i, then %i) is read as libexif reads it', async (first, second) => {
    await expectHonest(await upload(t, await jpegWithTwoOrientations(first, second)));
  });
});
