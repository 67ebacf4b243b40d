import { createHash } from 'node:crypto';
import { readFile } from 'node:fs/promises';
import path from 'node:path';
import request from 'supertest';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { thumbnailOf } from '../../src/domain/image-processing.js';
import { generatedImage, padJpeg, pngClaiming } from '../support/images.js';
import { sample, samples } from '../support/samples.js';
import { mysqlUrl, s3Endpoint } from '../support/services.js';
import { createTestApp, type Setup, type TestApp } from '../support/test-app.js';

const MiB = 1_048_576;
const sha256 = (bytes: Buffer | Uint8Array) => createHash('sha256').update(bytes).digest('hex');

const setups: Array<{ setup: Setup; enabled: boolean }> = [
  { setup: 'sqlite+local', enabled: true },
  { setup: 'mysql+s3', enabled: mysqlUrl !== null && s3Endpoint !== null },
];

describe.each(setups)('uploads with $setup', ({ setup, enabled }) => {
  let t: TestApp;
  beforeAll(async () => {
    if (enabled) t = await createTestApp(setup);
  });
  afterAll(async () => {
    await t?.close();
  });

  /** Reads a published image as a visitor would: S3 over anonymous HTTP, local through the app. */
  async function fetchPublished(url: string): Promise<Buffer> {
    if (url.startsWith('http://127.0.0.1:') && s3Endpoint && url.startsWith(s3Endpoint)) {
      const response = await fetch(url);
      expect(response.status).toBe(200);
      return Buffer.from(await response.arrayBuffer());
    }
    const response = await request(t.app)
      .get(new URL(url).pathname)
      .buffer(true)
      .parse((res, done) => {
        const chunks: Buffer[] = [];
        res.on('data', (c: Buffer) => chunks.push(c));
        res.on('end', () => done(null, Buffer.concat(chunks)));
      });
    expect(response.status).toBe(200);
    return response.body as Buffer;
  }

  /** Nothing stored anywhere: no file, no object, no row beyond what was there before. */
  async function snapshot() {
    return { files: await t.uploadedFiles(), keys: await t.storedKeys(), rows: await t.rowCount() };
  }

  const upload = (bytes: Buffer, filename = 'photo.jpg', name = 'Ada') =>
    request(t.app).post('/images').field('name', name).attach('image', bytes, filename);

  const accepted = [...samples('jpg'), ...samples('png')];
  it.runIf(enabled).each(accepted)(
    'accepts $name: 201, a row, and the same bytes in uploads/ and at the public URL',
    async ({ name, bytes }) => {
      const response = await upload(bytes, path.basename(name));
      expect(response.status).toBe(201);
      const body = response.body;
      expect(response.headers.location).toBe(`/images/${body.id}`);
      expect(body).toEqual({
        id: expect.stringMatching(/^[0-9a-f-]{36}$/),
        name: 'Ada',
        url: expect.stringMatching(/^http/),
        key: `${body.id}.${name.endsWith('.png') ? 'png' : 'jpg'}`,
        size: expect.any(Number),
        contentType: name.endsWith('.png') ? 'image/png' : 'image/jpeg',
        width: expect.any(Number),
        height: expect.any(Number),
        sha256: expect.stringMatching(/^[0-9a-f]{64}$/),
        createdAt: expect.stringMatching(/^\d{4}-\d\d-\d\dT\d\d:\d\d:\d\d\.\d{3}Z$/),
        thumbnailUrl: expect.stringMatching(new RegExp(`/thumbs/${body.id}\\.webp$`)),
        deleteToken: expect.stringMatching(/^[\w-]{32}$/),
      });
      // What is published is the upload with its metadata removed: the row, the local copy and
      // the object all describe those bytes.
      expect(body.size).toBeLessThanOrEqual(bytes.length + 4096);

      const row = await t.container.repository.findById(body.id);
      expect(row).toMatchObject({ name: 'Ada', key: body.key, size: body.size, sha256: body.sha256 });
      expect(row!.url).toBe(setup === 'mysql+s3' ? body.url : `/uploads/${body.key}`);

      const localCopy = await readFile(path.join(t.uploadDir, body.key));
      expect(localCopy.length).toBe(body.size);
      expect(sha256(localCopy)).toBe(body.sha256);
      expect(sha256(await fetchPublished(body.url))).toBe(body.sha256);
    },
  );

  it.runIf(enabled)('publishes S3 objects with the detected type, public-read and a long cache lifetime', async () => {
    const response = await upload(sample('png/basn6a08.png'), 'looks-like.jpg');
    expect(response.status).toBe(201);
    expect(response.body.contentType).toBe('image/png');
    expect(response.body.key).toMatch(/\.png$/);
    const published = await fetch(setup === 'mysql+s3' ? response.body.url : 'about:blank').catch(() => undefined);
    if (setup === 'mysql+s3') {
      expect(published!.headers.get('content-type')).toBe('image/png');
      expect(published!.headers.get('cache-control')).toBe('public, max-age=31536000, immutable');
    }
  });

  it.runIf(enabled).each(['gif', 'webp'] as const)('accepts a %s', async (format) => {
    const response = await upload(await generatedImage(format), `x.${format}`);
    expect(response.status).toBe(201);
    expect(response.body).toMatchObject({ contentType: `image/${format}`, width: 64, height: 48 });
  });

  it.runIf(enabled)(
    'accepts a file of exactly MAX_UPLOAD_BYTES and refuses one byte more with 413, storing nothing',
    async () => {
      const base = sample('jpg/jolla.jpg');
      const exact = padJpeg(base, MiB);
      expect(exact.length).toBe(MiB);
      const ok = await upload(exact, 'exact.jpg');
      expect(ok.status).toBe(201);
      // The padding is comment segments, which metadata stripping removes before publishing.
      expect(ok.body.size).toBeLessThan(MiB);

      const before = await snapshot();
      const over = await upload(padJpeg(base, MiB + 1), 'over.jpg');
      expect(over.status).toBe(413);
      expect(over.body.error).toEqual({ code: 'file_too_large', message: expect.stringContaining('1 MiB limit') });
      expect(await snapshot()).toEqual(before);
    },
  );

  const refused: Array<{ label: string; bytes: () => Promise<Buffer> | Buffer; status: number; code: string }> = [
    ...samples('bad').map((s) => ({
      label: s.name,
      bytes: () => s.bytes,
      status: s.name.includes('oversize') ? 413 : 415,
      code: s.name.includes('oversize') ? 'file_too_large' : 'unsupported_type',
    })),
    {
      label: 'heic/samplefilehub.heif',
      bytes: () => sample('heic/samplefilehub.heif'),
      status: 415,
      code: 'unsupported_type',
    },
    {
      label: 'an SVG with a script',
      bytes: () => Buffer.from('<svg xmlns="http://www.w3.org/2000/svg"><script>alert(1)</script></svg>'),
      status: 415,
      code: 'unsupported_type',
    },
    {
      label: 'HTML named photo.jpg',
      bytes: () => Buffer.from('<html><body>hi</body></html>'),
      status: 415,
      code: 'unsupported_type',
    },
    {
      label: 'a truncated JPEG',
      bytes: () => sample('jpg/DSCN0012.jpg').subarray(0, 50_000),
      status: 415,
      code: 'unsupported_type',
    },
    {
      label: 'a 30000 × 30000 PNG bomb',
      bytes: () => pngClaiming(30_000, 30_000),
      status: 413,
      code: 'too_many_pixels',
    },
    { label: 'a zero-byte file', bytes: () => Buffer.alloc(0), status: 400, code: 'missing_file' },
  ];
  it.runIf(enabled).each(refused)(
    'refuses $label with $status $code and stores nothing',
    async ({ bytes, status, code }) => {
      const before = await snapshot();
      const response = await request(t.app)
        .post('/images')
        .field('name', 'Mallory')
        .attach('image', await bytes(), { filename: 'photo.jpg', contentType: 'image/jpeg' });
      expect(response.status).toBe(status);
      expect(response.body.error.code).toBe(code);
      expect(response.body.error.message.length).toBeGreaterThan(20);
      expect(await snapshot()).toEqual(before);
    },
  );

  it.runIf(enabled).each([
    ['no name', undefined, 'invalid_name'],
    ['a name of only spaces', '    ', 'invalid_name'],
    ['a name of 101 characters', 'x'.repeat(101), 'invalid_name'],
  ])('refuses %s with 400', async (_label, name, code) => {
    const before = await snapshot();
    const req = request(t.app).post('/images');
    if (name !== undefined) req.field('name', name);
    const response = await req.attach('image', sample('png/basn0g01.png'), 'a.png');
    expect(response.status).toBe(400);
    expect(response.body.error.code).toBe(code);
    expect(await snapshot()).toEqual(before);
  });

  it.runIf(enabled)(
    'refuses a request without a file, a file under another field, and a non-multipart body',
    async () => {
      const noFile = await request(t.app).post('/images').field('name', 'Ada');
      expect(noFile.status).toBe(400);
      expect(noFile.body.error.code).toBe('missing_file');

      const wrongField = await request(t.app)
        .post('/images')
        .field('name', 'Ada')
        .attach('photo', sample('png/basn0g01.png'), 'a.png');
      expect(wrongField.status).toBe(400);
      expect(wrongField.body.error).toEqual({
        code: 'bad_request',
        message: expect.stringContaining('field named "image"'),
      });

      const twoFiles = await request(t.app)
        .post('/images')
        .field('name', 'Ada')
        .attach('image', sample('png/basn0g01.png'), 'a.png')
        .attach('image', sample('png/basn0g01.png'), 'b.png');
      expect(twoFiles.status).toBe(400);

      const json = await request(t.app).post('/images').send({ name: 'Ada' });
      expect(json.status).toBe(400);
      expect(json.body.error.message).toContain('multipart/form-data');
    },
  );

  it.runIf(enabled)('keeps Unicode names and UTF-8 filenames byte for byte', async () => {
    const name = 'Zoë 🦊 מרים';
    const response = await request(t.app)
      .post('/images')
      .field('name', `  ${name} `)
      .attach('image', sample('png/basn0g01.png'), 'fotoğraf 📷.png');
    expect(response.status).toBe(201);
    expect(response.body.name).toBe(name);
    const row = await t.container.repository.findById(response.body.id);
    expect(Buffer.from(row!.name)).toEqual(Buffer.from(name));
    expect(row!.originalFilename).toBe('fotoğraf 📷.png');
  });

  it.runIf(enabled)('serves the image as JSON and as a page, escaping the name; 404 for unknown ids', async () => {
    const created = await upload(sample('png/basn2c16.png'), 'a.png', '<script>alert("x")</script>');
    const json = await request(t.app).get(`/images/${created.body.id}`);
    expect(json.status).toBe(200);
    // Local URLs are made absolute from the request's Host, which differs per supertest request.
    const comparable = (body: Record<string, unknown>) => ({ ...body, url: undefined, thumbnailUrl: undefined });
    expect(comparable(json.body)).toEqual(comparable({ ...created.body, deleteToken: undefined }));
    expect(json.body.deleteToken).toBeUndefined();
    expect(new URL(json.body.url).pathname).toBe(new URL(created.body.url).pathname);

    const page = await request(t.app).get(`/images/${created.body.id}`).set('Accept', 'text/html');
    expect(page.status).toBe(200);
    expect(page.text).toContain('&lt;script&gt;alert(&#34;x&#34;)&lt;/script&gt;');
    expect(page.text).not.toContain('<script>alert');
    expect(page.text).toContain(new URL(created.body.url).pathname);

    expect((await request(t.app).get('/images/0190a0a0-0000-7000-8000-000000000000')).status).toBe(404);
    expect((await request(t.app).get('/images/not-an-id')).body.error.code).toBe('not_found');
  });

  it.runIf(enabled)('pages through the gallery newest first with a cursor', async () => {
    const ids: string[] = [];
    for (let i = 0; i < 3; i += 1) ids.push((await upload(sample('png/basn0g01.png'), 'a.png', `pager ${i}`)).body.id);
    const first = await request(t.app).get('/images?limit=2');
    expect(first.status).toBe(200);
    expect(first.body.items.map((i: { id: string }) => i.id)).toEqual([ids[2], ids[1]]);
    expect(first.body.prevCursor).toBeNull();
    const second = await request(t.app).get(`/images?limit=2&cursor=${first.body.nextCursor}`);
    expect(second.body.items[0].id).toBe(ids[0]);
    expect(second.body.prevCursor).toBe(ids[0]);
    const back = await request(t.app).get(`/images?limit=2&after=${second.body.prevCursor}`);
    expect(back.body.items.map((i: { id: string }) => i.id)).toEqual([ids[2], ids[1]]);
    expect(back.body.prevCursor).toBeNull();
    expect(back.body.nextCursor).toBe(ids[1]);

    expect((await request(t.app).get('/images?limit=101')).status).toBe(400);
    expect((await request(t.app).get('/images?limit=0')).status).toBe(400);
    expect((await request(t.app).get('/images?cursor=zzz')).body.error.code).toBe('invalid_query');

    const html = await request(t.app).get('/images?limit=2').set('Accept', 'text/html');
    expect(html.status).toBe(200);
    expect(html.text).toContain(`href="/images?limit=2&amp;cursor=${first.body.nextCursor}"`);
  });

  it.runIf(enabled)(
    'answers a browser with 303 to the image page, and with the form, message and name on error',
    async () => {
      const ok = await request(t.app)
        .post('/images')
        .set('Accept', 'text/html,application/xhtml+xml')
        .field('name', 'Ada')
        .attach('image', sample('jpg/Canon_40D.jpg'), 'a.jpg');
      expect(ok.status).toBe(303);
      expect(ok.headers.location).toMatch(/^\/images\/[0-9a-f-]{36}$/);

      const tooBig = await request(t.app)
        .post('/images')
        .set('Accept', 'text/html')
        .field('name', 'Grace <Hopper>')
        .attach('image', sample('bad/oversize-phone-photo.jpg'), 'big.jpg');
      expect(tooBig.status).toBe(413);
      expect(tooBig.headers['content-type']).toMatch(/text\/html/);
      expect(tooBig.text).toContain('1 MiB limit');
      expect(tooBig.text).toContain('value="Grace &lt;Hopper&gt;"');
      expect(tooBig.text).toContain('<form');
    },
  );

  it.runIf(enabled)('renders the upload form with the latest uploads', async () => {
    const page = await request(t.app).get('/').set('Accept', 'text/html');
    expect(page.status).toBe(200);
    expect(page.text).toMatch(/<form[^>]+method="post"[^>]+action="\/images"[^>]+enctype="multipart\/form-data"/);
    expect(page.text).toContain('<label for="name">');
    expect(page.text).toContain('<label for="image">');
    expect(page.text).toContain('up to 1 MiB');
    expect(page.text).toContain('Latest uploads');
  });

  it.runIf(enabled)('reports health and readiness', async () => {
    expect((await request(t.app).get('/healthz')).body).toEqual({ status: 'ok' });
    const ready = await request(t.app).get('/readyz');
    expect(ready.status).toBe(200);
    expect(ready.body).toEqual({ status: 'ready', checks: { database: { ok: true }, storage: { ok: true } } });
  });

  it.runIf(enabled)('sets security headers, nosniff on images included', async () => {
    const created = await upload(sample('png/basn0g01.png'), 'a.png');
    const page = await request(t.app).get('/');
    expect(page.headers['content-security-policy']).toContain("script-src 'self'");
    expect(page.headers['x-content-type-options']).toBe('nosniff');
    if (setup === 'sqlite+local') {
      const image = await request(t.app).get(`/uploads/${created.body.key}`);
      expect(image.headers['x-content-type-options']).toBe('nosniff');
      expect(image.headers['cache-control']).toContain('immutable');
    }
  });
});

describe.each(setups)('with STRIP_METADATA=false and $setup', ({ setup, enabled }) => {
  let t: TestApp;
  beforeAll(async () => {
    if (enabled) t = await createTestApp(setup, { STRIP_METADATA: 'false', THUMBNAILS: 'false' });
  });
  afterAll(async () => {
    await t?.close();
  });

  it.runIf(enabled)(
    'publishes every sample byte for byte: the local copy and the public object equal the upload',
    async () => {
      for (const { name, bytes } of [...samples('jpg'), ...samples('png')]) {
        const response = await request(t.app)
          .post('/images')
          .field('name', 'Ada')
          .attach('image', bytes, path.basename(name));
        expect(response.status, name).toBe(201);
        expect(response.body).toMatchObject({ size: bytes.length, sha256: sha256(bytes), thumbnailUrl: null });
        expect(sha256(await readFile(path.join(t.uploadDir, response.body.key)))).toBe(sha256(bytes));
        const publicUrl = response.body.url as string;
        const published =
          setup === 'mysql+s3'
            ? Buffer.from(await (await fetch(publicUrl)).arrayBuffer())
            : (await request(t.app).get(new URL(publicUrl).pathname).responseType('blob')).body;
        expect(sha256(published), name).toBe(sha256(bytes));
      }
      const exact = padJpeg(sample('jpg/jolla.jpg'), MiB);
      const response = await request(t.app).post('/images').field('name', 'Ada').attach('image', exact, 'exact.jpg');
      expect(response.body.size).toBe(MiB);
    },
  );
});

// Upload bodies live in buffers reused from one upload to the next (src/http/upload-buffers.ts):
// many at once, refused ones among them, must each publish their own bytes.
describe.each(setups)('buffers reused across concurrent uploads, with $setup', ({ setup, enabled }) => {
  let t: TestApp;
  beforeAll(async () => {
    if (enabled) t = await createTestApp(setup, { STRIP_METADATA: 'false', UPLOAD_CONCURRENCY: '2' });
  });
  afterAll(async () => {
    await t?.close();
  });

  it.runIf(enabled)('each upload publishes its own bytes and thumbnail, refused ones in between', async () => {
    const good = [...samples('jpg'), ...samples('png')];
    // Cut short, so they fail in the decode while the next upload waits for a buffer.
    const bad = good.slice(0, 6).map(({ name, bytes }) => ({ name: `cut ${name}`, bytes: bytes.subarray(0, 2_000) }));
    const sends = [...good, ...bad, ...good].map(async ({ name, bytes }) => {
      const response = await request(t.app)
        .post('/images')
        .field('name', 'Ada')
        .attach('image', bytes, path.basename(name));
      return { name, bytes, response };
    });
    let published = 0;
    for (const { name, bytes, response } of await Promise.all(sends)) {
      if (name.startsWith('cut ')) {
        expect([name, response.status]).toEqual([name, 415]);
        continue;
      }
      expect([name, response.status]).toEqual([name, 201]);
      expect(response.body.sha256, name).toBe(sha256(bytes));
      expect(sha256(await readFile(path.join(t.uploadDir, response.body.key))), name).toBe(sha256(bytes));
      const thumbnail = await readFile(path.join(t.uploadDir, `thumbs/${response.body.id}.webp`));
      const expected = await thumbnailOf(bytes, response.body.contentType, t.config.maxImagePixels);
      expect(sha256(thumbnail), `thumbnail of ${name}`).toBe(sha256(expected));
      published += 1;
    }
    expect(published).toBe(good.length * 2);
    expect(await t.rowCount()).toBe(good.length * 2);
  });
});

describe('with MAX_UPLOAD_BYTES at its highest (100 MiB)', () => {
  it('takes an upload into a buffer sized by its request, byte for byte', async () => {
    const t = await createTestApp('sqlite+local', { MAX_UPLOAD_BYTES: String(100 * MiB), STRIP_METADATA: 'false' });
    for (const name of ['jpg/DSCN0010.jpg', 'png/basn6a08.png']) {
      const bytes = sample(name);
      const response = await request(t.app).post('/images').field('name', 'Ada').attach('image', bytes, 'a');
      expect(response.status, name).toBe(201);
      expect(sha256(await readFile(path.join(t.uploadDir, response.body.key))), name).toBe(sha256(bytes));
    }
    await t.close();
  });
});
