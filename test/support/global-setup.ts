import { mkdtemp, rm } from 'node:fs/promises';
import os from 'node:os';
import path from 'node:path';
import mysql from 'mysql2/promise';
import S3rver from 's3rver';
import type { TestProject } from 'vitest/node';

declare module 'vitest' {
  export interface ProvidedContext {
    s3Endpoint: string | null;
    mysqlUrl: string | null;
  }
}

const inCi = process.env.CI === 'true';

/** Answers true when a MySQL server accepts the URL's credentials. */
async function mysqlAnswers(url: string): Promise<boolean> {
  try {
    const connection = await mysql.createConnection({ uri: url, connectTimeout: 3_000 });
    await connection.end();
    return true;
  } catch {
    return false;
  }
}

/**
 * Starts what the integration tests need once per run: an S3-compatible server (s3rver,
 * in-process, on a free port) and a check that MySQL answers. A missing service skips its
 * tests on a laptop and fails the run in CI.
 */
export default async function setup(project: TestProject) {
  const mysqlUrl = process.env.MYSQL_URL ?? 'mysql://root@127.0.0.1:3306';
  const mysqlUp = await mysqlAnswers(mysqlUrl);
  if (!mysqlUp && inCi) throw new Error(`CI=true but no MySQL answers at ${mysqlUrl}: start MariaDB (see .ci/run).`);
  if (!mysqlUp) console.warn(`No MySQL at ${mysqlUrl}: MySQL tests are skipped (set MYSQL_URL to run them).`);
  project.provide('mysqlUrl', mysqlUp ? mysqlUrl : null);

  const directory = await mkdtemp(path.join(os.tmpdir(), 'snapstore-s3rver-'));
  const s3rver = new S3rver({ address: '127.0.0.1', port: 0, silent: true, directory });
  let s3Endpoint: string | null = null;
  try {
    const { port } = await s3rver.run();
    s3Endpoint = `http://127.0.0.1:${port}`;
  } catch (error) {
    if (inCi) throw error;
    console.warn(`s3rver did not start (${(error as Error).message}): S3 tests are skipped.`);
  }
  project.provide('s3Endpoint', s3Endpoint);

  return async () => {
    if (s3Endpoint) await s3rver.close();
    await rm(directory, { recursive: true, force: true });
  };
}
