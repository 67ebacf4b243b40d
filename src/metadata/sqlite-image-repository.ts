import { mkdirSync } from 'node:fs';
import path from 'node:path';
import Database from 'better-sqlite3';
import { DatabaseUnavailableError } from '../domain/errors.js';
import { messages } from '../domain/messages.js';
import type { ImageRecord } from '../domain/image.js';
import type { ImageRepository } from './image-repository.js';
import { IMAGE_COLUMNS, IMAGE_PLACEHOLDERS, fromRow, toRowValues, type ImageRow } from './image-row.js';
import { migrations } from './migrations.js';

/** Metadata in an embedded SQLite file: the zero-configuration default. */
export class SqliteImageRepository implements ImageRepository {
  private readonly db: Database.Database;

  /** Opens (creating if needed) the database file; `:memory:` works for throwaway use. */
  constructor(file: string) {
    if (file !== ':memory:') mkdirSync(path.dirname(file), { recursive: true });
    this.db = new Database(file);
    this.db.pragma('journal_mode = WAL');
    // better-sqlite3 waits for a lock on the event loop: keep that wait short (503 past it).
    this.db.pragma('busy_timeout = 200');
  }

  async migrate(): Promise<number> {
    this.db.exec(`CREATE TABLE IF NOT EXISTS schema_migrations (
      version INTEGER PRIMARY KEY NOT NULL, name TEXT NOT NULL, applied_at TEXT NOT NULL)`);
    const applied = new Set(this.db.prepare('SELECT version FROM schema_migrations').pluck().all() as number[]);
    const pending = migrations.filter((m) => !applied.has(m.version));
    const apply = this.db.transaction(() => {
      for (const migration of pending) {
        for (const statement of migration.sqlite) this.db.exec(statement);
        this.db
          .prepare('INSERT INTO schema_migrations (version, name, applied_at) VALUES (?, ?, ?)')
          .run(migration.version, migration.name, new Date().toISOString());
      }
    });
    apply.immediate();
    return pending.length;
  }

  async insert(image: ImageRecord): Promise<void> {
    this.run(() =>
      this.db
        .prepare(`INSERT INTO images (${IMAGE_COLUMNS}) VALUES (${IMAGE_PLACEHOLDERS})`)
        .run(...toRowValues(image, image.createdAt.toISOString())),
    );
  }

  async findById(id: string): Promise<ImageRecord | undefined> {
    const row = this.run(
      () => this.db.prepare(`SELECT ${IMAGE_COLUMNS} FROM images WHERE id = ?`).get(id) as ImageRow | undefined,
    );
    return row && fromRow(row);
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
    if (after !== undefined) {
      const newer = this.run(() =>
        this.db.prepare(`SELECT ${IMAGE_COLUMNS} FROM images WHERE id > ? ORDER BY id ASC LIMIT ?`).all(after, limit),
      ) as ImageRow[];
      return newer.reverse().map(fromRow);
    }
    const rows = this.run(() =>
      before === undefined
        ? this.db.prepare(`SELECT ${IMAGE_COLUMNS} FROM images ORDER BY id DESC LIMIT ?`).all(limit)
        : this.db
            .prepare(`SELECT ${IMAGE_COLUMNS} FROM images WHERE id < ? ORDER BY id DESC LIMIT ?`)
            .all(before, limit),
    ) as ImageRow[];
    return rows.map(fromRow);
  }

  async deleteById(id: string): Promise<boolean> {
    return this.run(() => this.db.prepare('DELETE FROM images WHERE id = ?').run(id).changes > 0);
  }

  async *listKeys(): AsyncIterable<string> {
    for (const key of this.db.prepare('SELECT object_key FROM images').pluck().iterate()) yield key as string;
  }

  async ping(): Promise<void> {
    this.run(() => this.db.prepare('SELECT 1').get());
  }

  async close(): Promise<void> {
    if (this.db.open) this.db.close();
  }

  private run<T>(operation: () => T): T {
    try {
      return operation();
    } catch (cause) {
      const code = (cause as { code?: string }).code ?? '';
      if (/^SQLITE_(BUSY|LOCKED|IOERR|FULL|CANTOPEN|READONLY)/.test(code) || !this.db.open) {
        throw new DatabaseUnavailableError(messages.databaseUnavailable, { cause });
      }
      throw cause;
    }
  }
}
