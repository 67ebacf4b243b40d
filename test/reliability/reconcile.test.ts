import { execFile } from 'node:child_process';
import { createHash } from 'node:crypto';
import path from 'node:path';
import request from 'supertest';
import { v7 as uuidv7 } from 'uuid';
import { describe, expect, it } from 'vitest';
import { ROOT } from '../support/server-process.js';
import { sample } from '../support/samples.js';
import { mysqlUrl, s3Endpoint } from '../support/services.js';
import { createTestApp, type Setup } from '../support/test-app.js';

const setups: Array<{ setup: Setup; enabled: boolean }> = [
  { setup: 'sqlite+local', enabled: true },
  { setup: 'mysql+s3', enabled: mysqlUrl !== null && s3Endpoint !== null },
];

describe.each(setups)('npm run reconcile with $setup', ({ setup, enabled }) => {
  it.runIf(enabled)('lists orphans and broken rows, removes old orphans only with --fix', async () => {
    const t = await createTestApp(setup);
    const env: Record<string, string> = {
      PATH: process.env.PATH!,
      AWS_ACCESS_KEY_ID: 'S3RVER',
      AWS_SECRET_ACCESS_KEY: 'S3RVER',
      UPLOAD_DIR: t.config.uploadDir,
      DATABASE_URL: t.config.database.driver === 'mysql' ? t.config.database.url : `sqlite:${t.config.database.file}`,
      ...(t.config.storage.driver === 's3' && {
        S3_BUCKET: t.config.storage.bucket,
        S3_ENDPOINT: t.config.storage.endpoint!,
        S3_REGION: 'us-east-1',
      }),
    };
    /** Runs the CLI; resolves with its output and exit code (1 means "inconsistent"). */
    const runCli = (...args: string[]) =>
      new Promise<{ stdout: string; code: number }>((resolve) => {
        execFile(
          process.execPath,
          ['--import', import.meta.resolve('tsx'), path.join(ROOT, 'src/cli/reconcile.ts'), ...args],
          { env, cwd: ROOT },
          (error, stdout) => resolve({ stdout, code: error ? Number(error.code ?? 1) : 0 }),
        );
      });
    const reconcile = async (...args: string[]) => (await runCli(...args)).stdout;

    // A write the live server has in progress: reconcile must leave it alone.
    const { writeFile: write, readdir: list } = await import('node:fs/promises');
    const partial = `${uuidv7()}.jpg.abc123.partial`;
    await write(path.join(t.config.uploadDir, partial), 'half');

    const kept = await request(t.app)
      .post('/images')
      .field('name', 'Ada')
      .attach('image', sample('png/basn0g01.png'), 'a.png');
    expect(kept.status).toBe(201);
    const cleanRun = await runCli();
    expect(await list(t.config.uploadDir)).toContain(partial);
    expect(cleanRun.code).toBe(0);
    const clean = cleanRun.stdout;
    expect(clean).toMatch(/^database: (SQLite|MySQL) /);
    expect(clean).toContain('objects without rows: 0');
    expect(clean).toContain('rows without objects: 0');

    // An orphan from an hour ago (a crash between put and insert) and one from just now.
    const bytes = sample('jpg/Canon_40D.jpg');
    const sha256 = createHash('sha256').update(bytes).digest('hex');
    const oldKey = `${uuidv7({ msecs: Date.now() - 3_600_000 })}.jpg`;
    const newKey = `${uuidv7()}.jpg`;
    for (const store of t.container.stores) {
      await store.put(oldKey, bytes, { contentType: 'image/jpeg', sha256 });
      await store.put(newKey, bytes, { contentType: 'image/jpeg', sha256 });
    }
    // A row whose object has gone.
    for (const store of t.container.stores) await store.delete(kept.body.key);

    const dry = await runCli();
    expect(dry.code).toBe(1);
    const dryRun = dry.stdout;
    expect(dryRun).toContain('objects without rows: 1');
    expect(dryRun).toContain(oldKey);
    expect(dryRun).toContain(`rows without objects: 1\n    ${kept.body.key}`);
    expect(dryRun).toContain('newer than 10 min, left alone: 1');
    expect(dryRun).toContain('Dry run: nothing was removed');
    expect(await t.container.blobStore.get(oldKey)).toBeDefined();

    const fixed = await reconcile('--fix');
    expect(fixed).toContain(`${oldKey} (removed)`);
    expect(await t.container.blobStore.get(oldKey)).toBeUndefined();
    expect(await t.container.blobStore.get(newKey)).toBeDefined();

    await reconcile('--fix', '--min-age-minutes=0');
    expect(await t.container.blobStore.get(newKey)).toBeUndefined();
    expect((await runCli('--help')).stdout).toContain('Usage: npm run reconcile');
    expect((await runCli('--nonsense')).code).toBe(2);
    await (await import('node:fs/promises')).rm(path.join(t.config.uploadDir, partial));
    await t.container.repository.deleteById(kept.body.id);
    for (const store of t.container.stores) await store.delete(`thumbs/${kept.body.id}.webp`);
    await t.close();
  });
});
