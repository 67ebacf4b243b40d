import http from 'node:http';
import type { AddressInfo } from 'node:net';
import net from 'node:net';
import request from 'supertest';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { listen } from '../../src/http/server.js';
import { generatedImage } from '../support/images.js';
import { sample } from '../support/samples.js';
import { mysqlUrl, s3Endpoint } from '../support/services.js';
import { createTestApp, type Setup, type TestApp } from '../support/test-app.js';

const setups: Array<{ setup: Setup; enabled: boolean }> = [
  { setup: 'sqlite+local', enabled: true },
  { setup: 'mysql+s3', enabled: mysqlUrl !== null && s3Endpoint !== null },
];

/** A GIF whose screen and frame claim width × height pixels, with a one-pixel image inside. */
async function gifClaiming(width: number, height: number): Promise<Buffer> {
  const gif = Buffer.from(await generatedImage('gif', 1, 1));
  gif.writeUInt16LE(width, 6);
  gif.writeUInt16LE(height, 8);
  const descriptor = gif.indexOf(0x2c, 13);
  gif.writeUInt16LE(width, descriptor + 5);
  gif.writeUInt16LE(height, descriptor + 7);
  return gif;
}

/** Sends raw bytes over a socket and resolves with whatever comes back before the close. */
function rawExchange(
  port: number,
  chunks: Array<Buffer | string>,
  options: { endAfter?: boolean; destroyAfterMs?: number } = {},
) {
  return new Promise<string>((resolve) => {
    const socket = net.connect(port, '127.0.0.1');
    let received = '';
    socket.on('data', (d) => (received += d.toString('latin1')));
    socket.on('close', () => resolve(received));
    socket.on('error', () => resolve(received));
    socket.on('connect', () => {
      for (const chunk of chunks) socket.write(chunk);
      if (options.endAfter) socket.end();
      if (options.destroyAfterMs !== undefined) setTimeout(() => socket.destroy(), options.destroyAfterMs);
    });
  });
}

const BOUNDARY = '----snapstoreBoundary';
const head = (contentLength: number, contentType = `multipart/form-data; boundary=${BOUNDARY}`) =>
  `POST /images HTTP/1.1\r\nHost: localhost\r\nContent-Type: ${contentType}\r\nContent-Length: ${contentLength}\r\nConnection: close\r\n\r\n`;
const namePart = `--${BOUNDARY}\r\nContent-Disposition: form-data; name="name"\r\n\r\nAda\r\n`;
const fileHeader = `--${BOUNDARY}\r\nContent-Disposition: form-data; name="image"; filename="a.jpg"\r\nContent-Type: image/jpeg\r\n\r\n`;

describe.each(setups)('bad input with $setup', ({ setup, enabled }) => {
  let t: TestApp;
  let server: http.Server;
  let port: number;
  beforeAll(async () => {
    if (!enabled) return;
    t = await createTestApp(setup);
    server = await listen(t.app, { port: 0, host: '127.0.0.1', requestTimeoutMs: 1_500 });
    port = (server.address() as AddressInfo).port;
  });
  afterAll(async () => {
    server?.closeAllConnections();
    server?.close();
    await t?.close();
  });

  const nothingStored = async () => {
    expect(await t.rowCount()).toBe(0);
    expect(await t.storedKeys()).toEqual([]);
    expect(await t.uploadedFiles()).toEqual([]);
  };

  it.runIf(enabled)(
    'a 5 MB body: 413 JSON for curl and the rendered form for a browser, answered promptly',
    async () => {
      const body = Buffer.alloc(5 * 1024 * 1024, 0x61);
      const started = Date.now();
      const json = await request(t.app).post('/images').field('name', 'Ada').attach('image', body, 'big.jpg');
      expect(json.status).toBe(413);
      expect(json.body.error.code).toBe('file_too_large');
      const html = await request(t.app)
        .post('/images')
        .set('Accept', 'text/html')
        .field('name', 'Ada')
        .attach('image', body, 'big.jpg');
      expect(html.status).toBe(413);
      expect(html.text).toContain('1 MiB limit');
      expect(html.text).toContain('<form');
      expect(Date.now() - started).toBeLessThan(10_000);
      await nothingStored();
    },
  );

  it.runIf(enabled)('a body declaring 1 GB is refused before it is read', async () => {
    const reply = await rawExchange(port, [head(1_000_000_000), namePart, fileHeader, Buffer.alloc(64 * 1024)], {
      destroyAfterMs: 3_000,
    });
    expect(reply).toMatch(/^HTTP\/1\.1 413/);
    expect(reply).toContain('file_too_large');
    await nothingStored();
  });

  it.runIf(enabled)('a GIF declaring 30000 × 30000 pixels: 413 too_many_pixels, quickly', async () => {
    const started = Date.now();
    const response = await request(t.app)
      .post('/images')
      .field('name', 'Ada')
      .attach('image', await gifClaiming(30_000, 30_000), 'bomb.gif');
    expect(response.status).toBe(413);
    expect(response.body.error.code).toBe('too_many_pixels');
    expect(Date.now() - started).toBeLessThan(5_000);
    await nothingStored();
  });

  it.runIf(enabled).each([
    ['multipart/form-data with no boundary', head(20, 'multipart/form-data') + 'name=Ada&image=x\r\n\r\n'],
    ['a body cut off after a part header', head(namePart.length + fileHeader.length) + namePart + fileHeader],
    ['a connection closed before the declared length arrived', head(5_000) + namePart + fileHeader],
    [
      'a body with no closing boundary',
      head(namePart.length + fileHeader.length + 4) + namePart + fileHeader + '\xff\xd8\xff\xe0',
    ],
    ['a JSON body', head(15, 'application/json') + '{"name":"Ada"}\n'],
    ['a urlencoded body', head(8, 'application/x-www-form-urlencoded') + 'name=Ada'],
  ])('%s: 400, never 500, server up', async (_label, raw) => {
    const reply = await rawExchange(port, [Buffer.from(raw, 'latin1')], { endAfter: true });
    expect(reply).toMatch(/^HTTP\/1\.1 400/);
    expect(reply).toContain('"code":"bad_request"');
    expect((await request(t.app).get('/healthz')).status).toBe(200);
    await nothingStored();
  });

  it.runIf(enabled)('a client that aborts halfway leaves nothing behind', async () => {
    const image = sample('jpg/jolla.jpg');
    await rawExchange(port, [head(900_000), namePart, fileHeader, image.subarray(0, 300_000)], { destroyAfterMs: 200 });
    await new Promise((resolve) => setTimeout(resolve, 300));
    await nothingStored();
    expect((await request(t.app).get('/healthz')).status).toBe(200);
  });

  it.runIf(enabled)('a client that sends very slowly is cut off by the request timeout', async () => {
    const started = Date.now();
    const reply = await rawExchange(port, [head(900_000), namePart, fileHeader, Buffer.alloc(10)]);
    const elapsed = Date.now() - started;
    expect(elapsed).toBeLessThan(6_000);
    expect(reply).toMatch(/^HTTP\/1\.1 408/);
    expect(reply).toContain('"code":"request_timeout"');
    await nothingStored();
  });
});

describe('rate limit', () => {
  it('refuses the uploads past the per-address limit with 429 and Retry-After', async () => {
    const t = await createTestApp('sqlite+local', { RATE_LIMIT_UPLOADS_PER_MINUTE: '3' });
    const statuses: number[] = [];
    let last: request.Response | undefined;
    for (let i = 0; i < 5; i += 1) {
      last = await request(t.app)
        .post('/images')
        .field('name', 'Ada')
        .attach('image', sample('png/basn0g01.png'), 'a.png');
      statuses.push(last.status);
    }
    expect(statuses).toEqual([201, 201, 201, 429, 429]);
    expect(Number(last!.headers['retry-after'])).toBeGreaterThan(0);
    expect(last!.body.error).toEqual({ code: 'rate_limited', message: expect.stringContaining('3 a minute') });
    expect((await request(t.app).get('/')).status).toBe(200);
    await t.close();
  });

  it('behind a proxy with TRUST_PROXY set, counts each client address separately', async () => {
    const t = await createTestApp('sqlite+local', { RATE_LIMIT_UPLOADS_PER_MINUTE: '1', TRUST_PROXY: 'loopback' });
    const from = (ip: string) =>
      request(t.app)
        .post('/images')
        .set('X-Forwarded-For', ip)
        .field('name', 'Ada')
        .attach('image', sample('png/basn0g01.png'), 'a.png');
    expect((await from('203.0.113.1')).status).toBe(201);
    expect((await from('203.0.113.2')).status).toBe(201);
    expect((await from('203.0.113.1')).status).toBe(429);
    await t.close();
  });
});

describe('Expect: 100-continue', () => {
  let t: TestApp;
  let server: http.Server;
  let port: number;
  beforeAll(async () => {
    t = await createTestApp('sqlite+local');
    server = await listen(t.app, { port: 0, host: '127.0.0.1', requestTimeoutMs: 5_000 });
    port = (server.address() as AddressInfo).port;
  });
  afterAll(async () => {
    server.closeAllConnections();
    server.close();
    await t.close();
  });

  it('a body far over the limit is refused before the client is asked to send it', async () => {
    const reply = await rawExchange(
      port,
      [`${head(50_000_000).replace('Connection: close\r\n', 'Expect: 100-continue\r\nConnection: close\r\n')}`],
      { destroyAfterMs: 1_000 },
    );
    expect(reply).toMatch(/^HTTP\/1\.1 413/);
    expect(reply).not.toContain('100 Continue');
  });

  it('a body within the limit is asked for with 100 Continue and stored', async () => {
    const image = sample('png/basn0g01.png');
    const body = Buffer.concat([
      Buffer.from(namePart + fileHeader.replace('a.jpg', 'a.png').replace('image/jpeg', 'image/png')),
      image,
      Buffer.from(`\r\n--${BOUNDARY}--\r\n`),
    ]);
    const socket = net.connect(port, '127.0.0.1');
    const reply = await new Promise<string>((resolve) => {
      let received = '';
      socket.on('data', (d) => {
        received += d.toString('latin1');
        if (received === 'HTTP/1.1 100 Continue\r\n\r\n') socket.write(body);
      });
      socket.on('close', () => resolve(received));
      socket.write(head(body.length).replace('Connection: close\r\n', 'Expect: 100-continue\r\nConnection: close\r\n'));
    });
    expect(reply).toMatch(/^HTTP\/1\.1 100 Continue[\s\S]*HTTP\/1\.1 201/);
  });
});
