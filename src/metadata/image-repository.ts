import type { ImageRecord } from '../domain/image.js';

/** Where upload metadata lives (SQLite by default, MySQL in production). */
export interface ImageRepository {
  /** Applies pending schema migrations; returns how many ran. */
  migrate(): Promise<number>;
  /** @throws DatabaseUnavailableError when the database cannot be reached. */
  insert(image: ImageRecord): Promise<void>;
  /** @returns the image, or undefined when no row has that id. */
  findById(id: string): Promise<ImageRecord | undefined>;
  /**
   * Newest first, keyset-paginated by id. `before`: the `limit` rows just older than that id.
   * `after`: the `limit` rows just newer than that id (still returned newest first).
   */
  listNewest(options: { limit: number; before?: string; after?: string }): Promise<ImageRecord[]>;
  /** Removes the row; resolves false when there was none. */
  deleteById(id: string): Promise<boolean>;
  /** Every object key the table refers to, for reconciliation with the blob store. */
  listKeys(): AsyncIterable<string>;
  /** @throws DatabaseUnavailableError when the database does not answer. */
  ping(): Promise<void>;
  close(): Promise<void>;
}
