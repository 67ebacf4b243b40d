import mysql from 'mysql2/promise';
import { DatabaseUnavailableError } from '../domain/errors.js';
import { messages } from '../domain/messages.js';
import type { ImageRecord } from '../domain/image.js';
import type { ImageRepository } from './image-repository.js';
import { IMAGE_COLUMNS, IMAGE_PLACEHOLDERS, fromRow, toRowValues, type ImageRow } from './image-row.js';
import { migrations } from './migrations.js';

export interface MysqlImageRepositoryOptions {
  url: string;
  tls: 'off' | 'on' | 'rds';
  poolSize: number;
  queueLimit: number;
  /** Per-statement limit, so a stuck server gives a 503 instead of a hung request. */
  queryTimeoutMs?: number;
}

/** Error codes that mean "the server is away or the connection died", not "the query is wrong". */
const UNAVAILABLE_CODES = new Set([
  'ECONNREFUSED',
  'ECONNRESET',
  'ETIMEDOUT',
  'EHOSTUNREACH',
  'ENETUNREACH',
  'ENOTFOUND',
  'EAI_AGAIN',
  'EPIPE',
  'PROTOCOL_CONNECTION_LOST',
  'PROTOCOL_SEQUENCE_TIMEOUT',
  'PROTOCOL_ENQUEUE_AFTER_FATAL_ERROR',
  'ER_CON_COUNT_ERROR',
  'ER_SERVER_SHUTDOWN',
  'ER_QUERY_INTERRUPTED',
  'ER_CONNECTION_KILLED',
  'ER_CLIENT_INTERACTION_TIMEOUT',
  'POOL_CLOSED',
  // The server answers but will not serve this app: wrong credentials, limits, database gone.
  'ER_ACCESS_DENIED_ERROR',
  'ER_DBACCESS_DENIED_ERROR',
  'ER_USER_LIMIT_REACHED',
  'ER_TOO_MANY_USER_CONNECTIONS',
  'ER_BAD_DB_ERROR',
  'ER_NO_SUCH_TABLE',
  'ER_LOCK_WAIT_TIMEOUT',
]);

// A connection that died while idle in the pool fails the first statement sent on it; such a
// statement never reached the server, so it is safe to send once more on a fresh connection.
const RETRY_ONCE_CODES = new Set([
  'PROTOCOL_CONNECTION_LOST',
  'ECONNRESET',
  'EPIPE',
  'ER_CONNECTION_KILLED',
  'ER_CLIENT_INTERACTION_TIMEOUT',
]);

const errorCode = (error: unknown) => String((error as { code?: unknown })?.code ?? '');
const isUnavailable = (error: unknown) =>
  UNAVAILABLE_CODES.has(errorCode(error)) ||
  (error as { fatal?: boolean })?.fatal === true ||
  /Queue limit reached|Pool is closed/i.test((error as Error)?.message ?? '');

/** Metadata in MySQL 8 (Amazon RDS in production) or MariaDB. */
export class MysqlImageRepository implements ImageRepository {
  private readonly pool: mysql.Pool;
  private readonly queryTimeoutMs: number;

  constructor(options: MysqlImageRepositoryOptions) {
    this.queryTimeoutMs = options.queryTimeoutMs ?? 10_000;
    this.pool = mysql.createPool({
      uri: options.url,
      connectionLimit: options.poolSize,
      maxIdle: options.poolSize,
      idleTimeout: 60_000,
      queueLimit: options.queueLimit,
      waitForConnections: true,
      connectTimeout: 5_000,
      enableKeepAlive: true,
      keepAliveInitialDelay: 10_000,
      charset: 'utf8mb4_unicode_ci',
      timezone: 'Z',
      ssl: options.tls === 'rds' ? 'Amazon RDS' : options.tls === 'on' ? { rejectUnauthorized: true } : undefined,
    });
  }

  async migrate(): Promise<number> {
    const connection = await this.unavailableOnFailure(() => this.pool.getConnection());
    try {
      // Several instances may start at once; the lock lets exactly one apply each migration.
      const [[lock]] = (await connection.query("SELECT GET_LOCK('snapstore_migrations', 30) AS locked")) as [
        Array<{ locked: number }>,
        unknown,
      ];
      if (lock?.locked !== 1) throw new Error('timed out waiting for another instance to finish migrating');
      try {
        await connection.query(`CREATE TABLE IF NOT EXISTS schema_migrations (
          version INT UNSIGNED NOT NULL PRIMARY KEY,
          name VARCHAR(200) NOT NULL,
          applied_at DATETIME(3) NOT NULL
        ) ENGINE=InnoDB DEFAULT CHARSET=utf8mb4 COLLATE=utf8mb4_unicode_ci`);
        const [rows] = (await connection.query('SELECT version FROM schema_migrations')) as [
          Array<{ version: number }>,
          unknown,
        ];
        const applied = new Set(rows.map((r) => Number(r.version)));
        const pending = migrations.filter((m) => !applied.has(m.version));
        for (const migration of pending) {
          // MySQL commits DDL implicitly, so each statement stands alone; versions are small.
          for (const statement of migration.mysql) await connection.query(statement);
          await connection.execute('INSERT INTO schema_migrations (version, name, applied_at) VALUES (?, ?, ?)', [
            migration.version,
            migration.name,
            new Date(),
          ]);
        }
        return pending.length;
      } finally {
        await connection.query("SELECT RELEASE_LOCK('snapstore_migrations')");
      }
    } finally {
      connection.release();
    }
  }

  /**
   * Inserts on a connection of its own so that a statement that times out can be killed on
   * the server (otherwise it may still commit later, after the caller gave up and removed the
   * objects). After a kill or a retry, the row is looked up: if it is there, the insert worked.
   * @throws DatabaseUnavailableError, with `outcomeUnknown` when that could not be settled.
   */
  async insert(image: ImageRecord): Promise<void> {
    const sql = `INSERT INTO images (${IMAGE_COLUMNS}) VALUES (${IMAGE_PLACEHOLDERS})`;
    const values = toRowValues(image, image.createdAt) as never[];
    const attempt = async (isRetry: boolean) => {
      const connection = await this.pool.getConnection();
      try {
        await connection.execute({ sql, timeout: this.queryTimeoutMs }, values);
      } catch (error) {
        // A retry that finds the row already there: the first attempt got through after all.
        if (isRetry && errorCode(error) === 'ER_DUP_ENTRY' && (await this.findById(image.id))) return;
        if (errorCode(error) !== 'PROTOCOL_SEQUENCE_TIMEOUT') throw error;
        await this.settleTimedOutInsert(connection.threadId, image.id, error);
      } finally {
        connection.release();
      }
    };
    await this.unavailableOnFailure(async () => {
      try {
        await attempt(false);
      } catch (error) {
        if (!RETRY_ONCE_CODES.has(errorCode(error))) throw error;
        await attempt(true);
      }
    });
  }

  /** Kills the statement still running for a timed-out insert, then returns only if the row exists. */
  private async settleTimedOutInsert(threadId: number, id: string, timeout: unknown): Promise<void> {
    try {
      await this.pool.query({ sql: 'KILL ?', timeout: 2_000 }, [threadId]);
      if (await this.findById(id)) return;
    } catch (cause) {
      throw new DatabaseUnavailableError(messages.databaseOutcomeUnknown, { cause, outcomeUnknown: true });
    }
    throw timeout;
  }

  async findById(id: string): Promise<ImageRecord | undefined> {
    const rows = await this.execute<ImageRow>(`SELECT ${IMAGE_COLUMNS} FROM images WHERE id = ?`, [id]);
    return rows[0] && fromRow(rows[0]);
  }

  async listNewest({
    limit,
    before,
    after,
  }: {
    limit: number;
    before?: string;
    after?: string;
  }): Promise<ImageRecord[]> {
    // LIMIT is bound as a string: MySQL 8 refuses a DOUBLE there, which is how numbers travel.
    const select = `SELECT ${IMAGE_COLUMNS} FROM images`;
    if (after !== undefined) {
      const newer = await this.execute<ImageRow>(`${select} WHERE id > ? ORDER BY id ASC LIMIT ?`, [
        after,
        String(limit),
      ]);
      return newer.reverse().map(fromRow);
    }
    const rows =
      before === undefined
        ? await this.execute<ImageRow>(`${select} ORDER BY id DESC LIMIT ?`, [String(limit)])
        : await this.execute<ImageRow>(`${select} WHERE id < ? ORDER BY id DESC LIMIT ?`, [before, String(limit)]);
    return rows.map(fromRow);
  }

  async deleteById(id: string): Promise<boolean> {
    const result = (await this.execute('DELETE FROM images WHERE id = ?', [id])) as unknown as { affectedRows: number };
    return result.affectedRows > 0;
  }

  async *listKeys(): AsyncIterable<string> {
    let after = '';
    for (;;) {
      const rows = await this.execute<{ object_key: string }>(
        'SELECT object_key FROM images WHERE object_key > ? ORDER BY object_key LIMIT 1000',
        [after],
      );
      for (const row of rows) yield row.object_key;
      if (rows.length < 1000) return;
      after = rows[rows.length - 1]!.object_key;
    }
  }

  async ping(): Promise<void> {
    // The table, not just the server: a dropped database or table is "not ready" too.
    await this.execute('SELECT 1 FROM images LIMIT 1');
  }

  async close(): Promise<void> {
    await this.pool.end();
  }

  private async execute<Row>(sql: string, values: unknown[] = []): Promise<Row[]> {
    const run = async () => {
      const [rows] = await this.pool.execute({ sql, timeout: this.queryTimeoutMs }, values as never[]);
      return rows as Row[];
    };
    return this.unavailableOnFailure(async () => {
      try {
        return await run();
      } catch (error) {
        if (!RETRY_ONCE_CODES.has(errorCode(error))) throw error;
        return run();
      }
    });
  }

  private async unavailableOnFailure<T>(operation: () => Promise<T>): Promise<T> {
    try {
      return await operation();
    } catch (cause) {
      if (isUnavailable(cause)) throw new DatabaseUnavailableError(messages.databaseUnavailable, { cause });
      throw cause;
    }
  }
}
