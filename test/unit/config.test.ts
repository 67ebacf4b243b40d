import { describe, expect, it } from 'vitest';
import { ConfigError, loadConfig } from '../../src/config/config.js';

describe('loadConfig', () => {
  it('runs with no configuration: SQLite under data/, images on local disk, port 3000', () => {
    const config = loadConfig({}, '/srv/app');
    expect(config).toMatchObject({
      port: 3000,
      host: '0.0.0.0',
      database: { driver: 'sqlite', file: '/srv/app/data/snapstore.db' },
      storage: { driver: 'local' },
      uploadDir: '/srv/app/uploads',
      keepLocalCopy: true,
      maxUploadBytes: 1_048_576,
      maxImagePixels: 40_000_000,
      trustProxy: false,
    });
    expect(Object.isFrozen(config)).toBe(true);
  });

  it('uses MySQL for a mysql:// DATABASE_URL and S3 when S3_BUCKET is set', () => {
    const config = loadConfig({
      DATABASE_URL: 'mysql://app:secret@db.internal:3306/snapstore',
      DATABASE_TLS: 'rds',
      S3_BUCKET: 'my-snapstore',
      S3_REGION: 'eu-west-1',
    });
    expect(config.database).toEqual({
      driver: 'mysql',
      url: 'mysql://app:secret@db.internal:3306/snapstore',
      tls: 'rds',
      poolSize: 10,
      queueLimit: 500,
      queryTimeoutMs: 10_000,
    });
    expect(config.storage).toEqual({
      driver: 's3',
      bucket: 'my-snapstore',
      region: 'eu-west-1',
      endpoint: undefined,
      forcePathStyle: false,
      acl: 'public-read',
      publicBaseUrl: undefined,
      cacheControl: 'public, max-age=31536000, immutable',
      requestTimeoutMs: 8_000,
    });
  });

  it('uses path-style addressing for a custom S3_ENDPOINT unless told otherwise', () => {
    const base = { S3_BUCKET: 'photos', S3_ENDPOINT: 'http://127.0.0.1:9000/' };
    expect(loadConfig(base).storage).toMatchObject({ endpoint: 'http://127.0.0.1:9000', forcePathStyle: true });
    expect(loadConfig({ ...base, S3_FORCE_PATH_STYLE: 'false' }).storage).toMatchObject({ forcePathStyle: false });
  });

  it('parses booleans, S3_ACL=none and TRUST_PROXY forms', () => {
    expect(loadConfig({ KEEP_LOCAL_COPY: 'false' }).keepLocalCopy).toBe(false);
    expect(loadConfig({ KEEP_LOCAL_COPY: '0' }).keepLocalCopy).toBe(false);
    expect(loadConfig({ S3_BUCKET: 'photos', S3_ACL: 'none' }).storage).toMatchObject({ acl: 'none' });
    expect(loadConfig({ TRUST_PROXY: 'true' }).trustProxy).toBe(true);
    expect(loadConfig({ TRUST_PROXY: '1' }).trustProxy).toBe(1);
    expect(loadConfig({ TRUST_PROXY: 'loopback' }).trustProxy).toBe('loopback');
  });

  it('treats empty variables (as in a copied .env.example) as unset', () => {
    const config = loadConfig({ DATABASE_URL: '', S3_BUCKET: '', S3_ENDPOINT: '' });
    expect(config.database.driver).toBe('sqlite');
    expect(config.storage.driver).toBe('local');
  });

  it('lists every bad variable in one readable message', () => {
    let error: unknown;
    try {
      loadConfig({
        PORT: 'eighty',
        MAX_UPLOAD_BYTES: '-5',
        S3_ACL: 'public',
        DATABASE_URL: 'postgres://x',
        KEEP_LOCAL_COPY: 'maybe',
      });
    } catch (e) {
      error = e;
    }
    expect(error).toBeInstanceOf(ConfigError);
    const message = (error as ConfigError).message;
    expect(message).toMatch(/^Invalid configuration:/);
    for (const name of ['PORT', 'MAX_UPLOAD_BYTES', 'S3_ACL', 'DATABASE_URL', 'KEEP_LOCAL_COPY']) {
      expect(message).toContain(`  - ${name}: `);
    }
    expect(message).toContain('(got "eighty")');
    expect((error as ConfigError).problems).toHaveLength(5);
  });

  it('asks for the database name in a MySQL URL', () => {
    expect(() => loadConfig({ DATABASE_URL: 'mysql://root@127.0.0.1:3306' })).toThrow(/with the database name/);
    expect(() => loadConfig({ DATABASE_URL: 'mysql://root@127.0.0.1:3306/' })).toThrow(/with the database name/);
  });
});
