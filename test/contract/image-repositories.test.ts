import { mkdtemp, rm } from 'node:fs/promises';
import os from 'node:os';
import path from 'node:path';
import mysql from 'mysql2/promise';
import { describe, expect, it } from 'vitest';
import { DatabaseUnavailableError } from '../../src/domain/errors.js';
import { MysqlImageRepository } from '../../src/metadata/mysql-image-repository.js';
import { migrations } from '../../src/metadata/migrations.js';
import { SqliteImageRepository } from '../../src/metadata/sqlite-image-repository.js';
import { createTestDatabase, mysqlUrl } from '../support/services.js';
import { describeImageRepositoryContract, imageRecord } from './image-repository-contract.js';

const MYSQL_DEFAULTS = { tls: 'off', poolSize: 4, queueLimit: 100 } as const;

describeImageRepositoryContract('SQLite', async () => {
  const dir = await mkdtemp(path.join(os.tmpdir(), 'snapstore-sqlite-'));
  const repository = new SqliteImageRepository(path.join(dir, 'nested', 'snapstore.db'));
  return {
    repository,
    async cleanup() {
      await repository.close();
      await rm(dir, { recursive: true, force: true });
    },
  };
});

describeImageRepositoryContract(
  'MySQL (MariaDB)',
  async () => {
    const database = await createTestDatabase();
    const repository = new MysqlImageRepository({ ...MYSQL_DEFAULTS, url: database.url });
    return {
      repository,
      async cleanup() {
        await repository.close();
        await database.drop();
      },
    };
  },
  mysqlUrl !== null,
);

describe.runIf(mysqlUrl !== null)('MysqlImageRepository', () => {
  it('creates utf8mb4 tables with millisecond timestamps', async () => {
    const database = await createTestDatabase();
    const repository = new MysqlImageRepository({ ...MYSQL_DEFAULTS, url: database.url });
    await repository.migrate();
    const inspect = await mysql.createConnection({ uri: mysqlUrl! });
    const [rows] = (await inspect.execute(
      `SELECT COLUMN_NAME AS name, DATA_TYPE AS type, DATETIME_PRECISION AS precision_, CHARACTER_SET_NAME AS charset
       FROM information_schema.COLUMNS WHERE TABLE_SCHEMA = ? AND TABLE_NAME = 'images'`,
      [database.name],
    )) as unknown as [Array<{ name: string; type: string; precision_: number | null; charset: string | null }>];
    const column = (name: string) => rows.find((r) => r.name === name)!;
    expect(column('uploader_name').charset).toBe('utf8mb4');
    expect(column('created_at')).toMatchObject({ type: 'datetime', precision_: 3 });
    await Promise.all([repository.close(), inspect.end()]);
    await database.drop();
  });

  it('applies migrations once when several instances start together', async () => {
    const database = await createTestDatabase();
    const instances = [1, 2, 3].map(() => new MysqlImageRepository({ ...MYSQL_DEFAULTS, url: database.url }));
    const applied = await Promise.all(instances.map((r) => r.migrate()));
    expect(applied.reduce((a, b) => a + b, 0)).toBe(migrations.length);
    await Promise.all(instances.map((r) => r.close()));
    await database.drop();
  });

  it('turns an unreachable server into DatabaseUnavailableError', async () => {
    const repository = new MysqlImageRepository({ ...MYSQL_DEFAULTS, url: 'mysql://root@127.0.0.1:9/none' });
    await expect(repository.ping()).rejects.toThrow(DatabaseUnavailableError);
    await expect(repository.insert(imageRecord())).rejects.toThrow(DatabaseUnavailableError);
    await repository.close();
  });
});
