import type { AddressInfo } from 'node:net';
import net from 'node:net';
import mysql from 'mysql2/promise';
import request from 'supertest';
import { afterAll, afterEach, beforeAll, describe, expect, it } from 'vitest';
import { listen } from '../../src/http/server.js';
import { padJpeg } from '../support/images.js';
import { sample } from '../support/samples.js';
import { createTestDatabase, mysqlUrl, s3Endpoint } from '../support/services.js';
import { startTcpProxy } from '../support/tcp-proxy.js';
import { createTestApp, type TestApp } from '../support/test-app.js';

const enabled = mysqlUrl !== null && s3Endpoint !== null;
const mysqlTarget = () => {
  const url = new URL(mysqlUrl!);
  return { host: url.hostname, port: Number(url.port || 3306) };
};

const upload = (t: TestApp, name = 'Ada') =>
  request(t.app).post('/images').field('name', name).attach('image', sample('jpg/Canon_40D.jpg'), 'a.jpg');

/** Serves `t` on a free port, for raw sockets and fetch; `stop()` closes the server and the app. */
async function serve(t: TestApp) {
  const server = await listen(t.app, { port: 0, host: '127.0.0.1', requestTimeoutMs: 60_000 });
  const { port } = server.address() as AddressInfo;
  return {
    port,
    async stop() {
      server.closeAllConnections();
      server.close();
      await t.close();
    },
  };
}

/** A small upload from an ordinary client; it gives up after 5 s (a jammed gate). */
function fetchUpload(port: number): Promise<Response> {
  const form = new FormData();
  form.set('name', 'Ada');
  form.set('image', new Blob([sample('png/basn0g01.png')]), 'a.png');
  return fetch(`http://127.0.0.1:${port}/images`, { method: 'POST', body: form, signal: AbortSignal.timeout(5_000) });
}

/** A whole `POST /images` as raw bytes (headers and multipart body), for clients that misbehave. */
function rawUploadRequest(image: Buffer): Buffer {
  const body = Buffer.concat([
    Buffer.from('--x\r\nContent-Disposition: form-data; name="name"\r\n\r\nAda\r\n'),
    Buffer.from('--x\r\nContent-Disposition: form-data; name="image"; filename="a.png"\r\n\r\n'),
    image,
    Buffer.from('\r\n--x--\r\n'),
  ]);
  const head = `POST /images HTTP/1.1\r\nHost: localhost\r\nContent-Type: multipart/form-data; boundary=x\r\nContent-Length: ${body.length}\r\n\r\n`;
  return Buffer.concat([Buffer.from(head), body]);
}

/** MySQL behind a proxy the test controls, S3 on s3rver; each test gets fresh ones. */
async function appBehindProxy(env: Record<string, string> = {}) {
  const proxy = await startTcpProxy(mysqlTarget());
  const database = await createTestDatabase();
  const t = await createTestApp('mysql+s3', { DATABASE_URL: proxy.url(database.name), ...env });
  return {
    t,
    proxy,
    async close() {
      await t.close();
      await proxy.close();
      await database.drop();
    },
  };
}

describe.runIf(enabled)('database faults (MariaDB behind a controllable proxy)', () => {
  let fixture: Awaited<ReturnType<typeof appBehindProxy>>;
  afterEach(async () => {
    await fixture?.close();
  });

  it('MariaDB stopped while uploads arrive: 503, nothing left, /readyz says so, and it recovers without a restart', async () => {
    fixture = await appBehindProxy();
    const { t, proxy } = fixture;
    expect((await upload(t)).status).toBe(201);

    await proxy.stop();
    const during = await Promise.all([upload(t), upload(t), upload(t)]);
    for (const response of during) {
      expect(response.status).toBe(503);
      expect(response.body.error.code).toBe('database_unavailable');
    }
    const ready = await request(t.app).get('/readyz');
    expect(ready.status).toBe(503);
    expect(ready.body.checks.database).toEqual({
      ok: false,
      error: expect.stringContaining('database is unavailable'),
    });
    expect(ready.body.checks.storage).toEqual({ ok: true });

    await proxy.start();
    expect((await upload(t)).status).toBe(201);
    expect((await request(t.app).get('/readyz')).status).toBe(200);
    expect(await t.rowCount()).toBe(2);
    expect(await t.inconsistencies()).toEqual([]);
    expect(await t.uploadedFiles()).toHaveLength(4); // two images, two thumbnails
  });

  it('every pooled connection closed by the server (wait_timeout, failover): the next upload still succeeds', async () => {
    fixture = await appBehindProxy();
    const { t, proxy } = fixture;
    await Promise.all([upload(t), upload(t), upload(t)]);
    expect(proxy.open).toBeGreaterThan(0);
    proxy.dropAll();
    const response = await upload(t);
    expect(response.status).toBe(201);
    expect(await t.rowCount()).toBe(4);
  });

  it('50 uploads at once against a pool of 10: all succeed, never more than 10 connections', async () => {
    fixture = await appBehindProxy({ DB_POOL_SIZE: '10' });
    const { t, proxy } = fixture;
    proxy.setLatency(5);
    const responses = await Promise.all(Array.from({ length: 50 }, (_, i) => upload(t, `load ${i}`)));
    expect(responses.map((r) => r.status)).toEqual(Array(50).fill(201));
    expect(proxy.maxConcurrent).toBeLessThanOrEqual(10);
    expect(await t.rowCount()).toBe(50);
  });

  it('with the wait queue full: a clean 503 for the overflow, nothing left behind by it', async () => {
    fixture = await appBehindProxy({ DB_POOL_SIZE: '1', DB_QUEUE_LIMIT: '1' });
    const { t, proxy } = fixture;
    proxy.setLatency(100);
    const responses = await Promise.all(Array.from({ length: 8 }, () => upload(t)));
    const statuses = responses.map((r) => r.status);
    expect(statuses).toContain(201);
    expect(statuses).toContain(503);
    expect(statuses.every((s) => s === 201 || s === 503)).toBe(true);
    for (const r of responses.filter((r) => r.status === 503)) expect(r.body.error.code).toBe('database_unavailable');
    expect(await t.rowCount()).toBe(statuses.filter((s) => s === 201).length);
    proxy.setLatency(0);
  });
});

describe.runIf(enabled)('a pooled connection killed on the server (KILL <id>)', () => {
  let t: TestApp;
  beforeAll(async () => {
    t = await createTestApp('mysql+s3');
  });
  afterAll(async () => {
    await t.close();
  });

  it('the next upload still succeeds and leaves no orphan object', async () => {
    expect((await upload(t)).status).toBe(201);
    const database = new URL(t.config.database.driver === 'mysql' ? t.config.database.url : '').pathname.slice(1);
    const admin = await mysql.createConnection({ uri: mysqlUrl! });
    const [rows] = (await admin.query('SELECT ID AS id FROM information_schema.PROCESSLIST WHERE DB = ?', [
      database,
    ])) as unknown as [Array<{ id: number }>];
    expect(rows.length).toBeGreaterThan(0);
    for (const { id } of rows) await admin.query(`KILL ${Number(id)}`);
    await admin.end();

    const response = await upload(t);
    expect(response.status).toBe(201);
    expect(await t.rowCount()).toBe(2);
    expect(await t.inconsistencies()).toEqual([]);
  });
});

describe('the upload gate', () => {
  it('lets a few uploads in at a time, queues the rest, and answers 503 server_busy past the queue', async () => {
    const t = await createTestApp('sqlite+local', { UPLOAD_CONCURRENCY: '1', UPLOAD_QUEUE_LIMIT: '2' });
    const responses = await Promise.all(Array.from({ length: 8 }, () => upload(t)));
    const statuses = responses.map((r) => r.status).sort();
    expect(statuses.filter((s) => s === 201).length).toBeGreaterThanOrEqual(3);
    expect(statuses.every((s) => s === 201 || s === 503)).toBe(true);
    const busy = responses.find((r) => r.status === 503);
    expect(busy?.body.error.code).toBe('server_busy');
    expect(busy?.headers['retry-after']).toBe('5');
    expect(await t.rowCount()).toBe(statuses.filter((s) => s === 201).length);
    await t.close();
  });

  it('a client trickling its body loses its place after UPLOAD_BODY_TIMEOUT_MS; others get through', async () => {
    const t = await createTestApp('sqlite+local', { UPLOAD_CONCURRENCY: '1', UPLOAD_BODY_TIMEOUT_MS: '500' });
    const { port, stop } = await serve(t);
    const slow = net.connect(port, '127.0.0.1');
    slow.on('error', () => undefined);
    slow.write(
      'POST /images HTTP/1.1\r\nHost: localhost\r\nContent-Type: multipart/form-data; boundary=x\r\nContent-Length: 5000\r\n\r\n--x\r\n',
    );
    await new Promise((resolve) => setTimeout(resolve, 100));
    const started = Date.now();
    const form = new FormData();
    form.set('name', 'Ada');
    form.set('image', new Blob([sample('jpg/Canon_40D.jpg')]), 'a.jpg');
    const response = await fetch(`http://127.0.0.1:${port}/images`, { method: 'POST', body: form });
    expect(response.status).toBe(201);
    expect(Date.now() - started).toBeLessThan(5_000);
    expect(slow.destroyed || slow.readableEnded).toBe(true);
    slow.destroy();
    await stop();
  });

  it('a client that hangs up after sending its body keeps its slot until its upload is stored', async () => {
    const t = await createTestApp('sqlite+local', { UPLOAD_CONCURRENCY: '1' });
    const images = t.container.services.images;
    const uploadNow = images.upload.bind(images);
    let active = 0;
    let mostAtOnce = 0;
    images.upload = async (input) => {
      active += 1;
      mostAtOnce = Math.max(mostAtOnce, active);
      try {
        await new Promise((resolve) => setTimeout(resolve, 150)); // a slow check or S3 put
        return await uploadNow(input);
      } finally {
        active -= 1;
      }
    };
    const { port, stop } = await serve(t);
    const image = sample('png/basn0g01.png');
    const leaving = net.connect(port, '127.0.0.1');
    leaving.on('error', () => undefined);
    leaving.end(rawUploadRequest(image)); // all of it, then FIN
    await new Promise((resolve) => setTimeout(resolve, 50));
    leaving.destroy(); // gone while its upload is being checked and stored
    const others = await Promise.all(Array.from({ length: 3 }, () => fetchUpload(port)));
    expect(others.map((r) => r.status)).toEqual([201, 201, 201]);
    expect(await t.rowCount()).toBe(4);
    expect(mostAtOnce).toBe(1);
    await stop();
  });

  it('two uploads pipelined on one connection, then a hang-up: no slot is lost', async () => {
    const t = await createTestApp('sqlite+local', { UPLOAD_CONCURRENCY: '1', RATE_LIMIT_UPLOADS_PER_MINUTE: '0' });
    const images = t.container.services.images;
    const uploadNow = images.upload.bind(images);
    images.upload = async (input) => {
      await new Promise((resolve) => setTimeout(resolve, 150)); // still busy when the client leaves
      return uploadNow(input);
    };
    const { port, stop } = await serve(t);
    for (const hangUp of ['end', 'destroy'] as const) {
      const client = net.connect(port, '127.0.0.1');
      client.on('error', () => undefined);
      // The second request's response cannot start before the first's: if the connection dies
      // first, Node never tells that response it closed.
      client.write(
        Buffer.concat([rawUploadRequest(sample('png/basn0g01.png')), rawUploadRequest(sample('png/basn2c16.png'))]),
      );
      await new Promise((resolve) => setTimeout(resolve, 30));
      client[hangUp]();
      await new Promise((resolve) => setTimeout(resolve, 300));
      const response = await fetchUpload(port);
      expect([hangUp, response.status]).toEqual([hangUp, 201]);
    }
    await stop();
  });

  it('a connection that never reads its responses does not keep an upload slot', async () => {
    const t = await createTestApp('sqlite+local', { UPLOAD_CONCURRENCY: '1', RATE_LIMIT_UPLOADS_PER_MINUTE: '0' });
    const { port, stop } = await serve(t);
    const big = await request(t.app)
      .post('/images')
      .field('name', 'Ada')
      .attach('image', padJpeg(sample('jpg/jolla.jpg'), 1_048_576), 'big.jpg');
    expect(big.status).toBe(201);
    const bigPath = new URL(big.body.url).pathname;
    // 40 MiB of responses queue up ahead of the upload's; the client reads none of them.
    const stalled = net.connect(port, '127.0.0.1');
    stalled.on('error', () => undefined);
    stalled.pause();
    const get = `GET ${bigPath} HTTP/1.1\r\nHost: localhost\r\n\r\n`;
    stalled.write(Buffer.concat([Buffer.from(get.repeat(40)), rawUploadRequest(sample('png/basn0g01.png'))]));
    const deadline = Date.now() + 10_000;
    while ((await t.rowCount()) < 2 && Date.now() < deadline) await new Promise((r) => setTimeout(r, 50));
    expect(await t.rowCount()).toBe(2); // the stalled upload is stored; only its answer is stuck
    const next = await fetchUpload(port);
    expect(next.status).toBe(201);
    stalled.destroy();
    await stop();
  });

  it('many uploads pipelined on one connection: answered in order, no listener warning', async () => {
    const t = await createTestApp('sqlite+local', { UPLOAD_CONCURRENCY: '1', RATE_LIMIT_UPLOADS_PER_MINUTE: '0' });
    const { port, stop } = await serve(t);
    const warnings: string[] = [];
    const onWarning = (warning: Error) => warnings.push(warning.name);
    process.on('warning', onWarning);
    const client = net.connect(port, '127.0.0.1');
    let answers = '';
    client.on('data', (chunk: Buffer) => (answers += chunk.toString('latin1')));
    client.write(Buffer.concat(Array.from({ length: 20 }, () => rawUploadRequest(sample('png/basn0g01.png')))));
    const deadline = Date.now() + 15_000;
    while ((answers.match(/HTTP\/1\.1 201/g) ?? []).length < 20 && Date.now() < deadline) {
      await new Promise((r) => setTimeout(r, 50));
    }
    await new Promise((r) => setTimeout(r, 50)); // warnings are emitted on the next tick
    process.off('warning', onWarning);
    expect((answers.match(/HTTP\/1\.1 201/g) ?? []).length).toBe(20);
    expect(warnings).toEqual([]);
    expect(await t.rowCount()).toBe(20);
    client.destroy();
    await stop();
  });

  it('with the defaults, 30 uploads at once all succeed', async () => {
    const t = await createTestApp('sqlite+local');
    const responses = await Promise.all(Array.from({ length: 30 }, () => upload(t)));
    expect(responses.map((r) => r.status)).toEqual(Array(30).fill(201));
    await t.close();
  });
});
