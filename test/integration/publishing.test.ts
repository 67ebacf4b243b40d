import sharp from 'sharp';
import request from 'supertest';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { animatedImage, jpegSegmentMarkers } from '../support/images.js';
import { sample } from '../support/samples.js';
import { mysqlUrl, s3Endpoint } from '../support/services.js';
import { createTestApp, type Setup, type TestApp } from '../support/test-app.js';

const setups: Array<{ setup: Setup; enabled: boolean }> = [
  { setup: 'sqlite+local', enabled: true },
  { setup: 'mysql+s3', enabled: mysqlUrl !== null && s3Endpoint !== null },
];

describe.each(setups)('images safe to publish, with $setup', ({ setup, enabled }) => {
  let t: TestApp;
  beforeAll(async () => {
    if (enabled) t = await createTestApp(setup);
  });
  afterAll(async () => {
    await t?.close();
  });

  const upload = (bytes: Buffer, filename = 'photo.jpg') =>
    request(t.app).post('/images').field('name', 'Ada').attach('image', bytes, filename);

  /** What a visitor gets from a published URL: S3 over anonymous HTTP, or the app's /uploads. */
  async function published(url: string): Promise<{ bytes: Buffer; contentType: string | null }> {
    if (setup === 'mysql+s3') {
      const response = await fetch(url);
      expect(response.status).toBe(200);
      return { bytes: Buffer.from(await response.arrayBuffer()), contentType: response.headers.get('content-type') };
    }
    const response = await request(t.app).get(new URL(url).pathname).responseType('blob');
    expect(response.status).toBe(200);
    return { bytes: response.body as Buffer, contentType: response.headers['content-type'] ?? null };
  }

  it.runIf(enabled).each(['jpg/DSCN0010.jpg', 'jpg/DSCN0012.jpg'])(
    '%s (with GPS) comes back from its public URL with no GPS, EXIF or XMP, pixels untouched',
    async (name) => {
      const original = sample(name);
      expect((await sharp(original).metadata()).exif?.includes(Buffer.from('GPS'))).toBe(false); // tag ids, not text
      expect(jpegSegmentMarkers(original)).toContain(0xe1);

      const response = await upload(original);
      expect(response.status).toBe(201);
      const { bytes } = await published(response.body.url);
      expect(jpegSegmentMarkers(bytes)).not.toContain(0xe1);
      const meta = await sharp(bytes).metadata();
      expect(meta.exif).toBeUndefined();
      expect(meta.xmp).toBeUndefined();
      expect(bytes.includes(Buffer.from('NIKON'))).toBe(false);
      expect((await sharp(bytes).raw().toBuffer()).equals(await sharp(original).raw().toBuffer())).toBe(true);
    },
  );

  it.runIf(enabled).each([
    ['jpg/landscape_3.jpg', 600, 450],
    ['jpg/portrait_6.jpg', 450, 600],
    ['jpg/portrait_8.jpg', 450, 600],
  ])('%s is published upright with no orientation tag, keeping its ICC profile', async (name, width, height) => {
    expect((await sharp(sample(name)).metadata()).orientation).toBeGreaterThan(1);
    const response = await upload(sample(name));
    expect(response.status).toBe(201);
    expect(response.body).toMatchObject({ width, height });
    const meta = await sharp((await published(response.body.url)).bytes).metadata();
    expect(meta).toMatchObject({ width, height });
    expect(meta.orientation ?? 1).toBe(1);
    expect(meta.exif).toBeUndefined();
    expect(meta.icc).toBeDefined();
  });

  it.runIf(enabled)('keeps the ICC colour profile of an upright photo', async () => {
    const response = await upload(sample('jpg/Canon_40D.jpg'));
    const meta = await sharp((await published(response.body.url)).bytes).metadata();
    expect(meta.icc).toBeDefined();
    expect(meta.exif).toBeUndefined();
  });

  it.runIf(enabled)('stores a WebP thumbnail of at most 320 px beside the original, upright', async () => {
    const response = await upload(sample('jpg/portrait_6.jpg'));
    expect(response.body.thumbnailUrl).toMatch(new RegExp(`/thumbs/${response.body.id}\\.webp$`));
    const thumbnail = await published(response.body.thumbnailUrl);
    expect(thumbnail.contentType).toBe('image/webp');
    const meta = await sharp(thumbnail.bytes).metadata();
    expect(meta).toMatchObject({ format: 'webp', width: 240, height: 320 });
    expect((await request(t.app).get('/images').set('Accept', 'text/html')).text).toContain(
      new URL(response.body.thumbnailUrl).pathname,
    );
  });

  it.runIf(enabled).each(['gif', 'webp'] as const)('an animated %s keeps its animation', async (format) => {
    const response = await upload(await animatedImage(format), `anim.${format}`);
    expect(response.status).toBe(201);
    expect(response.body).toMatchObject({ contentType: `image/${format}`, width: 40, height: 30 });
    const meta = await sharp((await published(response.body.url)).bytes, { animated: true }).metadata();
    expect(meta.pages).toBe(3);
    expect(meta.loop).toBe(0);
  });

  it.runIf(enabled)(
    'deletes with the token: row, object, thumbnail and local copies gone; a wrong token removes nothing',
    async () => {
      const created = await upload(sample('jpg/Nikon_D70.jpg'));
      const { id, deleteToken } = created.body as { id: string; deleteToken: string };
      const files = await t.uploadedFiles();
      const keys = await t.storedKeys();
      expect(files).toEqual(expect.arrayContaining([created.body.key, `thumbs/${id}.webp`]));

      const wrong = await request(t.app).delete(`/images/${id}`).set('Authorization', 'Bearer not-the-token');
      expect(wrong.status).toBe(403);
      expect(wrong.body.error.code).toBe('forbidden');
      const missing = await request(t.app).delete(`/images/${id}`);
      expect(missing.status).toBe(401);
      expect(missing.body.error.code).toBe('delete_token_required');
      expect(missing.headers['www-authenticate']).toBe('Bearer');
      expect(await t.uploadedFiles()).toEqual(files);
      expect(await t.storedKeys()).toEqual(keys);
      expect((await request(t.app).get(`/images/${id}`)).status).toBe(200);

      const ok = await request(t.app).delete(`/images/${id}`).set('Authorization', `Bearer ${deleteToken}`);
      expect(ok.status).toBe(204);
      expect((await request(t.app).get(`/images/${id}`)).status).toBe(404);
      expect(await t.uploadedFiles()).not.toEqual(expect.arrayContaining([created.body.key]));
      expect((await t.uploadedFiles()).some((f) => f.includes(id))).toBe(false);
      expect((await t.storedKeys()).some((k) => k.includes(id))).toBe(false);
      expect((await request(t.app).delete(`/images/${id}`).set('Authorization', `Bearer ${deleteToken}`)).status).toBe(
        404,
      );
    },
  );

  it.runIf(enabled)(
    'a malformed or repeated delete token is a 400 that says how to send it, and removes nothing',
    async () => {
      const created = await upload(sample('png/basn0g01.png'), 'a.png');
      const { id, deleteToken } = created.body as { id: string; deleteToken: string };
      const files = await t.uploadedFiles();
      for (const authorization of [
        `Basic ${deleteToken}`,
        'Bearer',
        `Bearer ${deleteToken} extra`,
        `Bearer "${deleteToken}"`,
      ]) {
        const response = await request(t.app).delete(`/images/${id}`).set('Authorization', authorization);
        expect({ authorization, status: response.status, code: response.body.error?.code }).toEqual({
          authorization,
          status: 400,
          code: 'bad_request',
        });
        expect(response.body.error.message).toContain('Authorization: Bearer <token>');
      }
      const repeated = await request(t.app)
        .post(`/images/${id}/delete`)
        .type('form')
        .send(`deleteToken=${deleteToken}&deleteToken=${deleteToken}`);
      expect(repeated.status).toBe(400);
      expect(repeated.body.error.message).toContain('once');
      expect(await t.uploadedFiles()).toEqual(files);
      expect((await request(t.app).get(`/images/${id}`)).status).toBe(200);
      const ok = await request(t.app).delete(`/images/${id}`).set('Authorization', `bearer  ${deleteToken}`);
      expect(ok.status).toBe(204);
    },
  );

  it.runIf(enabled)('the delete form on the image page works without JavaScript', async () => {
    const created = await upload(sample('png/basn6a08.png'), 'a.png');
    const response = await request(t.app)
      .post(`/images/${created.body.id}/delete`)
      .set('Accept', 'text/html')
      .type('form')
      .send({ deleteToken: created.body.deleteToken });
    expect(response.status).toBe(303);
    expect((await request(t.app).get(`/images/${created.body.id}`)).status).toBe(404);
  });

  it.runIf(enabled)(
    'the token is stored only as a hash, and reaches the image page once after a browser upload',
    async () => {
      const agent = request.agent(t.app);
      const created = await agent
        .post('/images')
        .set('Accept', 'text/html')
        .field('name', 'Ada')
        .attach('image', sample('png/basn0g01.png'), 'a.png');
      expect(created.status).toBe(303);
      const id = created.headers.location!.split('/').pop()!;
      const row = await t.container.repository.findById(id);
      expect(row!.deleteTokenHash).toMatch(/^[0-9a-f]{64}$/);

      const first = await agent.get(`/images/${id}`).set('Accept', 'text/html');
      const token = /name="deleteToken"[^>]*value="([\w-]{32})"/.exec(first.text)?.[1];
      expect(token).toBeDefined();
      expect(JSON.stringify(row)).not.toContain(token!);
      const second = await agent.get(`/images/${id}`).set('Accept', 'text/html');
      expect(second.text).not.toContain(token!);

      const ok = await request(t.app).delete(`/images/${id}`).set('Authorization', `Bearer ${token}`);
      expect(ok.status).toBe(204);
    },
  );
});
