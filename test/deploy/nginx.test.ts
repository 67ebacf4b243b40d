/**
 * deploy/nginx-snapstore.conf in Debian's real nginx, in front of the real app (SQLite + local
 * disk, in process): uploads pass through at the 1 MiB limit, an oversize upload gets the app's
 * own JSON 413 (not nginx's HTML page), and the proxy headers reach the app.
 *
 * Needs /usr/sbin/nginx (apt-get install nginx-light). Without it the tests are skipped on a
 * laptop and fail with CI=true. NGINX_BIN points at another binary.
 */
import { spawn, type ChildProcess } from 'node:child_process';
import { createHash } from 'node:crypto';
import { existsSync } from 'node:fs';
import { chmod, mkdtemp, readFile, rm, writeFile } from 'node:fs/promises';
import http from 'node:http';
import net, { type AddressInfo } from 'node:net';
import os from 'node:os';
import path from 'node:path';
import { fileURLToPath } from 'node:url';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { padJpeg } from '../support/images.js';
import { sample } from '../support/samples.js';
import { createTestApp, type TestApp } from '../support/test-app.js';

const ROOT = path.resolve(path.dirname(fileURLToPath(import.meta.url)), '../..');
const NGINX = process.env.NGINX_BIN ?? '/usr/sbin/nginx';
const hasNginx = existsSync(NGINX);
const inCi = process.env.CI === 'true';
const MIB = 1_048_576;

if (!hasNginx && inCi) {
  describe('nginx', () => {
    it('is installed (CI=true: a missing nginx is a failure, not a skip)', () => {
      throw new Error(`CI=true but ${NGINX} is missing: apt-get install -y nginx-light (see .ci/run)`);
    });
  });
} else if (!hasNginx) {
  console.warn(`${NGINX} not found: the nginx tests are skipped (apt-get install nginx-light).`);
}

/** A port free on 127.0.0.1 right now. */
async function freePort(): Promise<number> {
  const server = net.createServer();
  await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
  const { port } = server.address() as AddressInfo;
  await new Promise<void>((resolve) => server.close(() => resolve()));
  return port;
}

/** deploy/nginx-snapstore.conf with the upstream and the listen port moved to test ports. */
function renderSite(conf: string, appPort: number, listenPort: number): string {
  const replace = (text: string, pattern: RegExp, by: string) => {
    if (!pattern.test(text)) throw new Error(`deploy/nginx-snapstore.conf no longer matches ${pattern}`);
    return text.replace(pattern, by);
  };
  let site = replace(conf, /server 127\.0\.0\.1:3000;/, `server 127.0.0.1:${appPort};`);
  site = replace(site, /listen 80 default_server;/, `listen 127.0.0.1:${listenPort} default_server;`);
  // This machine may have no IPv6; the IPv4 listener is enough for the test.
  return replace(site, /^\s*listen \[::\]:80 default_server;\n/m, '');
}

/** A complete nginx.conf keeping every file nginx writes in `dir`. */
function mainConf(dir: string, site: string): string {
  return `daemon off;
worker_processes 1;
pid ${dir}/nginx.pid;
error_log ${dir}/error.log warn;
events { worker_connections 64; }
http {
  default_type application/octet-stream;
  access_log ${dir}/access.log;
  client_body_temp_path ${dir}/client_body;
  proxy_temp_path ${dir}/proxy;
  fastcgi_temp_path ${dir}/fastcgi;
  uwsgi_temp_path ${dir}/uwsgi;
  scgi_temp_path ${dir}/scgi;
  include ${site};
}
`;
}

describe.runIf(hasNginx)('deploy/nginx-snapstore.conf in front of the app', () => {
  let testApp: TestApp;
  let appServer: http.Server;
  let nginx: ChildProcess | undefined;
  let dir: string;
  let base: string;
  let nginxPort: number;
  /** Headers of every request that reached the app. */
  const seen: http.IncomingHttpHeaders[] = [];

  beforeAll(async () => {
    testApp = await createTestApp('sqlite+local', { TRUST_PROXY: 'loopback' });
    appServer = http.createServer((req, res) => {
      seen.push(req.headers);
      testApp.app(req, res);
    });
    await new Promise<void>((resolve) => appServer.listen(0, '127.0.0.1', resolve));
    const appPort = (appServer.address() as AddressInfo).port;

    dir = await mkdtemp(path.join(os.tmpdir(), 'snapstore-nginx-'));
    // nginx's workers drop to `nobody` when started as root: they must reach the temp folders.
    await chmod(dir, 0o755);
    nginxPort = await freePort();
    base = `http://127.0.0.1:${nginxPort}`;
    const site = renderSite(await readFile(path.join(ROOT, 'deploy/nginx-snapstore.conf'), 'utf8'), appPort, nginxPort);
    await writeFile(path.join(dir, 'snapstore.conf'), site);
    await writeFile(path.join(dir, 'nginx.conf'), mainConf(dir, path.join(dir, 'snapstore.conf')));

    const child = spawn(NGINX, ['-p', dir, '-c', path.join(dir, 'nginx.conf'), '-e', path.join(dir, 'error.log')], {
      stdio: ['ignore', 'ignore', 'pipe'],
    });
    nginx = child;
    let stderr = '';
    child.stderr!.on('data', (chunk: Buffer) => (stderr += chunk.toString()));
    const exited = new Promise<never>((_, reject) =>
      child.once('exit', (code) => reject(new Error(`nginx exited (${code}): ${stderr}`))),
    );
    exited.catch(() => {});
    // Ready when /healthz answers through it.
    for (let attempt = 0; ; attempt += 1) {
      const ok = await Promise.race([
        fetch(`${base}/healthz`).then(
          (r) => r.ok,
          () => false,
        ),
        exited,
      ]);
      if (ok) break;
      if (attempt > 100) throw new Error(`nginx did not answer on ${base}: ${stderr}`);
      await new Promise((resolve) => setTimeout(resolve, 100));
    }
  });

  afterAll(async () => {
    if (nginx && nginx.exitCode === null) {
      const stopped = new Promise((resolve) => nginx!.once('exit', resolve));
      nginx.kill('SIGQUIT'); // graceful: finish requests, then exit
      await stopped;
    }
    if (appServer) {
      appServer.closeAllConnections();
      await new Promise<void>((resolve) => appServer.close(() => resolve()));
    }
    await testApp?.close();
    if (dir) await rm(dir, { recursive: true, force: true });
  });

  const upload = (bytes: Buffer, name: string, headers: Record<string, string> = {}) => {
    const form = new FormData();
    form.append('name', 'Ada');
    form.append('image', new Blob([bytes], { type: 'image/jpeg' }), name);
    return fetch(`${base}/images`, { method: 'POST', body: form, headers: { Accept: 'application/json', ...headers } });
  };

  it('answers /healthz without telling its version', async () => {
    const response = await fetch(`${base}/healthz`);
    expect(response.status).toBe(200);
    expect(await response.json()).toEqual({ status: 'ok' });
    expect(response.headers.get('server')).toBe('nginx');
  });

  it('passes a 1 MiB image (the limit, to the byte) to the app: 201 JSON, served back through nginx', async () => {
    const image = padJpeg(sample('jpg/jolla.jpg'), MIB);
    expect(image.length).toBe(MIB);
    const response = await upload(image, 'jolla.jpg');
    expect(response.status).toBe(201);
    expect(response.headers.get('content-type')).toMatch(/^application\/json/);
    const body = (await response.json()) as { url: string; size: number; sha256: string; contentType: string };
    // What the app stored (it may strip metadata such as the padding), described by the JSON.
    expect(body.contentType).toBe('image/jpeg');
    // nginx forwards the Host with its port, so the app's absolute URL points back at nginx.
    expect(body.url.startsWith(`${base}/uploads/`)).toBe(true);
    const served = await fetch(body.url);
    expect(served.status).toBe(200);
    const bytes = Buffer.from(await served.arrayBuffer());
    expect(bytes.length).toBe(body.size);
    expect(createHash('sha256').update(bytes).digest('hex')).toBe(body.sha256);
  });

  it("lets a 2 MiB image through to the app's own 413 JSON, not nginx's HTML page", async () => {
    const before = await testApp.uploadedFiles();
    const photo = sample('bad/oversize-phone-photo.jpg');
    expect(photo.length).toBeGreaterThan(2 * 1_000_000);
    const response = await upload(photo, 'oversize-phone-photo.jpg');
    expect(response.status).toBe(413);
    expect(response.headers.get('content-type')).toMatch(/^application\/json/);
    const body = (await response.json()) as { error: { code: string; message: string } };
    expect(body.error.code).toBe('file_too_large');
    expect(await testApp.uploadedFiles()).toEqual(before);
  });

  it('forwards the client address, protocol and host to the app, appending to a client X-Forwarded-For', async () => {
    seen.length = 0;
    const response = await fetch(`${base}/healthz`, { headers: { 'X-Forwarded-For': '203.0.113.7' } });
    expect(response.status).toBe(200);
    expect(seen).toHaveLength(1);
    expect(seen[0]).toMatchObject({
      'x-forwarded-for': '203.0.113.7, 127.0.0.1',
      'x-real-ip': '127.0.0.1',
      'x-forwarded-proto': 'http',
      'x-forwarded-host': `127.0.0.1:${nginxPort}`,
      host: `127.0.0.1:${nginxPort}`,
    });
  });

  it('logged no error on the way (e.g. an upstream that closed early on the 413)', async () => {
    const log = await readFile(path.join(dir, 'error.log'), 'utf8');
    expect(log.split('\n').filter((line) => /\[(error|crit|alert|emerg)\]/.test(line))).toEqual([]);
  });
});
