// Stops and restarts the real MariaDB server this machine runs, so it never runs inside
// `npm test` (other test files share that server): .ci/run runs it on its own afterwards with
// SNAPSTORE_DISRUPTIVE=1 (`npm run test:disruptive`). The same case runs in `npm test` against
// a controllable proxy (test/reliability/database-faults.test.ts).
import { execFile } from 'node:child_process';
import { promisify } from 'node:util';
import request from 'supertest';
import { describe, expect, it } from 'vitest';
import { sample } from '../support/samples.js';
import { mysqlUrl, s3Endpoint } from '../support/services.js';
import { createTestApp, type TestApp } from '../support/test-app.js';

const run = promisify(execFile);
const enabled = process.env.SNAPSTORE_DISRUPTIVE === '1' && mysqlUrl !== null && s3Endpoint !== null;

const mariadbAnswers = () =>
  run('mariadb-admin', ['-h127.0.0.1', '-uroot', '--connect-timeout=1', 'ping']).then(
    () => true,
    () => false,
  );

const mariadbRunning = () =>
  run('pidof', ['mariadbd']).then(
    () => true,
    () => false,
  );

async function waitFor(condition: () => Promise<boolean>, what: string) {
  for (let i = 0; i < 120; i += 1) {
    if (await condition()) return;
    await new Promise((resolve) => setTimeout(resolve, 500));
  }
  throw new Error(`timed out waiting for ${what}`);
}

async function startMariadb() {
  const asUser = process.getuid?.() === 0 ? ['--', '--user=mysql'] : [];
  await run('start-stop-daemon', ['--start', '--oknodo', '--background', '--exec', '/usr/sbin/mariadbd', ...asUser]);
  await waitFor(mariadbAnswers, 'MariaDB to answer again');
}

const upload = (t: TestApp) =>
  request(t.app).post('/images').field('name', 'Ada').attach('image', sample('jpg/Canon_40D.jpg'), 'a.jpg');

describe.runIf(enabled)('the real MariaDB stopped and started while the app runs', () => {
  it(
    '503 and nothing left while it is down; uploads succeed again once it is back, no restart',
    { timeout: 120_000 },
    async () => {
      const t = await createTestApp('mysql+s3');
      try {
        expect((await upload(t)).status).toBe(201);
        const before = { keys: await t.storedKeys(), files: await t.uploadedFiles() };

        await run('mariadb-admin', ['-h127.0.0.1', '-uroot', 'shutdown']);
        // Not answering is not gone: the process still flushes for a while, and starting a new
        // one before it exits would be a no-op.
        await waitFor(async () => !(await mariadbRunning()), 'MariaDB to exit');

        const down = await upload(t);
        expect(down.status).toBe(503);
        expect(down.body.error.code).toBe('database_unavailable');
        expect(await t.storedKeys()).toEqual(before.keys);
        expect(await t.uploadedFiles()).toEqual(before.files);
        const ready = await request(t.app).get('/readyz');
        expect(ready.status).toBe(503);
        expect(ready.body.checks.database.ok).toBe(false);

        await startMariadb();
        expect((await upload(t)).status).toBe(201);
        expect((await request(t.app).get('/readyz')).status).toBe(200);
        expect(await t.rowCount()).toBe(2);
      } finally {
        if (!(await mariadbAnswers())) await startMariadb();
        await t.close();
      }
    },
  );
});
