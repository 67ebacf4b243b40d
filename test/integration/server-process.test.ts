import { readdir } from 'node:fs/promises';
import path from 'node:path';
import { describe, expect, it } from 'vitest';
import { sample } from '../support/samples.js';
import { listeningOrigin, startServer, useCleanups } from '../support/server-process.js';

describe('the server process', () => {
  const { tempDir, onCleanup } = useCleanups('snapstore-main-');

  it('starts with no configuration on SQLite and local disk, takes an upload, and exits 0 on SIGTERM', async () => {
    const dir = await tempDir();
    const server = startServer(dir, {});
    onCleanup(async () => server.child.kill('SIGKILL'));
    const origin = await listeningOrigin(server);

    const form = new FormData();
    form.set('name', 'Ada');
    form.set('image', new Blob([sample('jpg/Canon_40D.jpg')]), 'a.jpg');
    const response = await fetch(`${origin}/images`, { method: 'POST', body: form });
    expect(response.status).toBe(201);
    const body = (await response.json()) as { key: string; url: string };
    expect(body.url).toBe(`${origin}/uploads/${body.key}`);
    expect((await fetch(body.url)).status).toBe(200);
    expect(await readdir(path.join(dir, 'uploads'), { recursive: true })).toEqual(
      expect.arrayContaining([body.key, `thumbs/${body.key.replace(/\.jpg$/, '.webp')}`]),
    );
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
