import path from 'node:path';
import { z } from 'zod';

export type DatabaseConfig =
  | { driver: 'sqlite'; file: string }
  | {
      driver: 'mysql';
      url: string;
      /** `rds` verifies the server against the Amazon RDS CA bundle; `on` against the system CAs. */
      tls: 'off' | 'on' | 'rds';
      poolSize: number;
      /** Requests waiting for a connection beyond this many get 503 instead of queueing forever. */
      queueLimit: number;
      /** A statement that has not answered after this long is abandoned (and killed if a write). */
      queryTimeoutMs: number;
    };

export type StorageConfig =
  | { driver: 'local' }
  | {
      driver: 's3';
      bucket: string;
      region: string;
      endpoint?: string;
      forcePathStyle: boolean;
      acl: 'public-read' | 'none';
      publicBaseUrl?: string;
      cacheControl: string;
      /** One attempt at an S3 request is abandoned after this long (the SDK tries 3 times). */
      requestTimeoutMs: number;
    };

export interface Config {
  port: number;
  host: string;
  logLevel: 'fatal' | 'error' | 'warn' | 'info' | 'debug' | 'trace' | 'silent';
  /** Express `trust proxy` value: false, true, a hop count or a list of addresses/subnets. */
  trustProxy: boolean | number | string;
  /** The app's own public origin; when unset, links are built from the request's Host. */
  publicBaseUrl?: string;
  requestTimeoutMs: number;
  /** Uploads one client address may make per minute; 0 turns the limit off. */
  uploadsPerMinute: number;
  /** Uploads read and checked at once, and how many may wait for a turn. */
  uploadConcurrency: number;
  uploadQueueLimit: number;
  uploadBodyTimeoutMs: number;
  database: DatabaseConfig;
  storage: StorageConfig;
  uploadDir: string;
  keepLocalCopy: boolean;
  maxUploadBytes: number;
  maxImagePixels: number;
  stripMetadata: boolean;
  thumbnails: boolean;
}

export class ConfigError extends Error {
  constructor(readonly problems: string[]) {
    super(`Invalid configuration:\n${problems.map((p) => `  - ${p}`).join('\n')}`);
    this.name = 'ConfigError';
  }
}

const bool = z.stringbool({ truthy: ['true', '1', 'yes', 'on'], falsy: ['false', '0', 'no', 'off'] });
const int = (min: number, max: number) => z.coerce.number().int().min(min).max(max);
const httpUrl = z.url({ protocol: /^https?$/ }).transform((u) => u.replace(/\/+$/, ''));
const emptyAsUndefined = (v: unknown) => (v === '' ? undefined : v);

const envSchema = z.object({
  PORT: int(0, 65535).default(3000),
  HOST: z.string().min(1).default('0.0.0.0'),
  LOG_LEVEL: z.enum(['fatal', 'error', 'warn', 'info', 'debug', 'trace', 'silent']).default('info'),
  TRUST_PROXY: z.string().default('false'),
  PUBLIC_BASE_URL: z.preprocess(emptyAsUndefined, httpUrl.optional()),
  REQUEST_TIMEOUT_MS: int(1000, 3_600_000).default(60_000),
  RATE_LIMIT_UPLOADS_PER_MINUTE: int(0, 100_000).default(30),
  UPLOAD_CONCURRENCY: int(1, 1_000).default(4),
  UPLOAD_QUEUE_LIMIT: int(0, 100_000).default(200),
  UPLOAD_BODY_TIMEOUT_MS: int(100, 600_000).default(20_000),
  DATA_DIR: z.string().min(1).default('data'),
  DATABASE_URL: z.preprocess(
    emptyAsUndefined,
    z
      .string()
      .regex(
        /^(mysql:\/\/[^/]+\/[^/?]+|sqlite:.+)/,
        'expected mysql://user:password@host:3306/database (with the database name) or sqlite:path/to/file.db',
      )
      .optional(),
  ),
  DATABASE_TLS: z.enum(['off', 'on', 'rds']).default('off'),
  DB_POOL_SIZE: int(1, 1000).default(10),
  DB_QUEUE_LIMIT: int(0, 100_000).default(500),
  DB_QUERY_TIMEOUT_MS: int(100, 600_000).default(10_000),
  S3_BUCKET: z.preprocess(
    emptyAsUndefined,
    z
      .string()
      .regex(
        /^[a-z0-9][a-z0-9.-]{1,61}[a-z0-9]$/,
        'expected an S3 bucket name (3-63 lowercase letters, digits, dots, hyphens)',
      )
      .optional(),
  ),
  S3_REGION: z
    .string()
    .regex(/^[a-z]{2}(-[a-z]+)+-\d+$/, 'expected an AWS region such as eu-west-1')
    .optional(),
  AWS_REGION: z.string().optional(),
  S3_ENDPOINT: z.preprocess(emptyAsUndefined, httpUrl.optional()),
  S3_FORCE_PATH_STYLE: z.preprocess(emptyAsUndefined, bool.optional()),
  S3_ACL: z.enum(['public-read', 'none']).default('public-read'),
  S3_PUBLIC_BASE_URL: z.preprocess(emptyAsUndefined, httpUrl.optional()),
  S3_CACHE_CONTROL: z.string().min(1).default('public, max-age=31536000, immutable'),
  S3_REQUEST_TIMEOUT_MS: int(100, 600_000).default(8_000),
  UPLOAD_DIR: z.string().min(1).default('uploads'),
  KEEP_LOCAL_COPY: bool.default(true),
  MAX_UPLOAD_BYTES: int(1, 100 * 1024 * 1024).default(1024 * 1024),
  MAX_IMAGE_PIXELS: int(1, 1_000_000_000).default(40_000_000),
  STRIP_METADATA: bool.default(true),
  THUMBNAILS: bool.default(true),
});

function parseTrustProxy(value: string): boolean | number | string {
  if (value === 'true' || value === 'false') return value === 'true';
  if (/^\d+$/.test(value)) return Number(value);
  return value;
}

/**
 * Reads and validates configuration from an environment object (process.env in main.ts).
 * Relative paths are resolved against `cwd`. The result is frozen.
 * @throws ConfigError listing every bad variable, with what was expected.
 */
export function loadConfig(env: Record<string, string | undefined>, cwd = process.cwd()): Readonly<Config> {
  const result = envSchema.safeParse(env);
  if (!result.success) {
    const problems = result.error.issues.map((issue) => {
      const name = String(issue.path[0] ?? '?');
      const given = env[name];
      return `${name}: ${issue.message}${given === undefined ? '' : ` (got ${JSON.stringify(given)})`}`;
    });
    throw new ConfigError(problems);
  }
  const e = result.data;
  const resolve = (p: string) => path.resolve(cwd, p);

  const databaseUrl = e.DATABASE_URL ?? `sqlite:${path.join(e.DATA_DIR, 'snapstore.db')}`;
  const database: DatabaseConfig = databaseUrl.startsWith('mysql://')
    ? {
        driver: 'mysql',
        url: databaseUrl,
        tls: e.DATABASE_TLS,
        poolSize: e.DB_POOL_SIZE,
        queueLimit: e.DB_QUEUE_LIMIT,
        queryTimeoutMs: e.DB_QUERY_TIMEOUT_MS,
      }
    : { driver: 'sqlite', file: resolve(databaseUrl.slice('sqlite:'.length)) };

  const storage: StorageConfig = e.S3_BUCKET
    ? {
        driver: 's3',
        bucket: e.S3_BUCKET,
        region: e.S3_REGION ?? e.AWS_REGION ?? 'us-east-1',
        endpoint: e.S3_ENDPOINT,
        forcePathStyle: e.S3_FORCE_PATH_STYLE ?? e.S3_ENDPOINT !== undefined,
        acl: e.S3_ACL,
        publicBaseUrl: e.S3_PUBLIC_BASE_URL,
        cacheControl: e.S3_CACHE_CONTROL,
        requestTimeoutMs: e.S3_REQUEST_TIMEOUT_MS,
      }
    : { driver: 'local' };

  return Object.freeze({
    port: e.PORT,
    host: e.HOST,
    logLevel: e.LOG_LEVEL,
    trustProxy: parseTrustProxy(e.TRUST_PROXY),
    publicBaseUrl: e.PUBLIC_BASE_URL,
    requestTimeoutMs: e.REQUEST_TIMEOUT_MS,
    uploadsPerMinute: e.RATE_LIMIT_UPLOADS_PER_MINUTE,
    uploadConcurrency: e.UPLOAD_CONCURRENCY,
    uploadQueueLimit: e.UPLOAD_QUEUE_LIMIT,
    uploadBodyTimeoutMs: e.UPLOAD_BODY_TIMEOUT_MS,
    database: Object.freeze(database),
    storage: Object.freeze(storage),
    uploadDir: resolve(e.UPLOAD_DIR),
    keepLocalCopy: e.KEEP_LOCAL_COPY,
    maxUploadBytes: e.MAX_UPLOAD_BYTES,
    maxImagePixels: e.MAX_IMAGE_PIXELS,
    stripMetadata: e.STRIP_METADATA,
    thumbnails: e.THUMBNAILS,
  });
}
