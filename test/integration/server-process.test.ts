import { spawn, type ChildProcess } from 'node:child_process';
import { mkdtemp, readdir, rm } from 'node:fs/promises';
import os from 'node:os';
import path from 'node:path';
import { fileURLToPath } from 'node:url';
import { afterEach, describe, expect, it } from 'vitest';
import { sample } from '../support/samples.js';

const ROOT = path.resolve(path.dirname(fileURLToPath(import.meta.url)), '../..');
const MAIN = path.join(ROOT, 'src/main.ts');

interface Started {
  child: ChildProcess;
  output: () => string;
  exited: Promise<number | null>;
}

/** Runs src/main.ts as `npm start` would, in a fresh folder with only the given environment. */
function startServer(cwd: string, env: Record<string, string>): Started {
  let output = '';
  const child = spawn(process.execPath, ['--import', import.meta.resolve('tsx'), MAIN], {
    cwd,
    env: {
      PATH: process.env.PATH!,
      HOME: cwd,
      NODE_PATH: path.join(ROOT, 'node_modules'),
      PORT: '0',
      HOST: '127.0.0.1',
      ...env,
    },
    stdio: ['ignore', 'pipe', 'pipe'],
  });
  child.stdout!.on('data', (chunk: Buffer) => (output += chunk));
  child.stderr!.on('data', (chunk: Buffer) => (output += chunk));
  const exited = new Promise<number | null>((resolve) => child.on('exit', (code) => resolve(code)));
  return { child, output: () => output, exited };
}

async function listeningOrigin(started: Started): Promise<string> {
  for (let i = 0; i < 300; i += 1) {
    const match = /listening on (http:\/\/[\w.]+:\d+)/.exec(started.output());
    if (match) return match[1]!;
    if (started.child.exitCode !== null) break;
    await new Promise((resolve) => setTimeout(resolve, 50));
  }
  throw new Error(`server did not start:\n${started.output()}`);
}

describe('the server process', () => {
  const cleanups: Array<() => Promise<unknown>> = [];
  afterEach(async () => {
    for (const cleanup of cleanups.splice(0)) await cleanup();
  });
  const tempDir = async () => {
    const dir = await mkdtemp(path.join(os.tmpdir(), 'snapstore-main-'));
    cleanups.push(() => rm(dir, { recursive: true, force: true }));
    return dir;
  };

  it('starts with no configuration on SQLite and local disk, takes an upload, and exits 0 on SIGTERM', async () => {
    const dir = await tempDir();
    const server = startServer(dir, {});
    cleanups.push(async () => server.child.kill('SIGKILL'));
    const origin = await listeningOrigin(server);

    const form = new FormData();
    form.set('name', 'Ada');
    form.set('image', new Blob([sample('jpg/Canon_40D.jpg')]), 'a.jpg');
    const response = await fetch(`${origin}/images`, { method: 'POST', body: form });
    expect(response.status).toBe(201);
    const body = (await response.json()) as { key: string; url: string };
    expect(body.url).toBe(`${origin}/uploads/${body.key}`);
    expect((await fetch(body.url)).status).toBe(200);
    expect(await readdir(path.join(dir, 'uploads'))).toEqual([body.key]);
    expect(await readdir(path.join(dir, 'data'))).toContain('snapstore.db');

    server.child.kill('SIGTERM');
    expect(await server.exited).toBe(0);
  });

  it('refuses to start on bad configuration, naming every bad variable', async () => {
    const server = startServer(await tempDir(), { PORT: 'eighty', S3_ACL: 'public' });
    expect(await server.exited).toBe(1);
    expect(server.output()).toContain('Invalid configuration');
    expect(server.output()).toContain('PORT:');
    expect(server.output()).toContain('S3_ACL:');
  });

  it('refuses to start when the database is unreachable, saying which', async () => {
    const server = startServer(await tempDir(), { DATABASE_URL: 'mysql://root@127.0.0.1:9/snapstore' });
    expect(await server.exited).toBe(1);
    expect(server.output()).toMatch(/could not start: the MySQL database \(DATABASE_URL\) is not usable/);
  });
});
