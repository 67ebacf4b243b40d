import { mkdtemp, readdir, rm } from 'node:fs/promises';
import os from 'node:os';
import path from 'node:path';
import { pino } from 'pino';
import type { Express } from 'express';
import { createApp } from '../../src/app.js';
import { loadConfig, type Config } from '../../src/config/config.js';
import { createContainer, type Container } from '../../src/container.js';
import { reconcile } from '../../src/domain/reconcile.js';
import { expect } from 'vitest';
import { createTestBucket, createTestDatabase, s3Endpoint } from './services.js';

export type Setup = 'sqlite+local' | 'mysql+s3';

export interface TestApp {
  app: Express;
  config: Readonly<Config>;
  container: Container;
  uploadDir: string;
  /** Files in the uploads folder (a local copy or the local store). */
  uploadedFiles(): Promise<string[]>;
  /** Objects in the bucket (S3 set-ups) or files in the uploads folder (local). */
  storedKeys(): Promise<string[]>;
  rowCount(): Promise<number>;
  /** What reconcile finds: orphan objects and rows without objects, in every store. */
  inconsistencies(): Promise<string[]>;
  /** Closes everything; first fails the test if any store and the database disagree. */
  close(options?: { skipConsistencyCheck?: boolean }): Promise<void>;
}

/**
 * The real app over real adapters, on throwaway storage: a temp folder, and for `mysql+s3` a
 * fresh MariaDB database and s3rver bucket. `env` overrides configuration variables.
 */
export async function createTestApp(setup: Setup, env: Record<string, string> = {}): Promise<TestApp> {
  const dir = await mkdtemp(path.join(os.tmpdir(), 'snapstore-test-'));
  const database = setup === 'mysql+s3' ? await createTestDatabase() : undefined;
  const bucket = setup === 'mysql+s3' ? await createTestBucket() : undefined;
  const config = loadConfig(
    {
      UPLOAD_DIR: 'uploads',
      DATA_DIR: 'data',
      LOG_LEVEL: 'silent',
      // Tests upload far more than a person would; the rate limit has its own test.
      RATE_LIMIT_UPLOADS_PER_MINUTE: '0',
      ...(database && { DATABASE_URL: database.url }),
      ...(bucket && { S3_BUCKET: bucket.bucket, S3_ENDPOINT: s3Endpoint!, S3_REGION: 'us-east-1' }),
      ...env,
    },
    dir,
  );
  const logger = pino({ level: 'silent' });
  const container = await createContainer(config, logger);
  const app = createApp({
    config,
    services: container.services,
    logger,
    imageOrigins: container.imageOrigins,
    uploadsDir: container.uploadsDir,
  });
  const inconsistencies = async () => {
    const reports = await reconcile({
      repository: container.repository,
      stores: container.stores,
      fix: false,
      minAgeMs: 0,
    });
    return reports.flatMap((r) => [
      ...r.objectsWithoutRows.map((key) => `${r.store}: object without row: ${key}`),
      ...r.rowsWithoutObjects.map((key) => `${r.store}: row without object: ${key}`),
    ]);
  };
  const uploadedFiles = async () => {
    const entries = await readdir(config.uploadDir, { recursive: true, withFileTypes: true }).catch(() => []);
    return entries
      .filter((e) => e.isFile())
      .map((e) => path.relative(config.uploadDir, path.join(e.parentPath, e.name)))
      .sort();
  };
  return {
    app,
    config,
    container,
    uploadDir: config.uploadDir,
    uploadedFiles,
    storedKeys: bucket ? bucket.keys : uploadedFiles,
    async rowCount() {
      let count = 0;
      for await (const _ of container.repository.listKeys()) count += 1;
      return count;
    },
    inconsistencies,
    async close({ skipConsistencyCheck = false } = {}) {
      try {
        if (!skipConsistencyCheck) expect(await inconsistencies()).toEqual([]);
      } finally {
        await container.close();
        await bucket?.drop();
        await database?.drop();
        await rm(dir, { recursive: true, force: true });
      }
    },
  };
}
