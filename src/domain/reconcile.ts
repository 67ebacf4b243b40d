import type { ImageRepository } from '../metadata/image-repository.js';
import type { BlobStore } from '../storage/blob-store.js';

export interface ReconcileReport {
  store: string;
  /** Objects no row refers to (left by a crash between the put and the insert, or by hand). */
  objectsWithoutRows: string[];
  /** Rows whose object is missing: their public URL is broken. */
  rowsWithoutObjects: string[];
  /** Orphans younger than the minimum age, left alone: they may be uploads in progress. */
  tooRecent: string[];
  removed: string[];
}

const UUID_V7 = /[0-9a-f]{8}-[0-9a-f]{4}-7[0-9a-f]{3}-[89ab][0-9a-f]{3}-[0-9a-f]{12}/;

/** Milliseconds since the epoch at which a UUIDv7 was made, from its first 48 bits. */
export function uuidV7Time(id: string): number {
  return parseInt(id.replace(/-/g, '').slice(0, 12), 16);
}

/**
 * Compares what the database refers to with what each store holds. With `fix`, removes objects
 * that no row refers to and that are older than `minAgeMs`; rows are never removed.
 */
export async function reconcile(options: {
  repository: ImageRepository;
  stores: BlobStore[];
  fix: boolean;
  minAgeMs: number;
  now?: number;
}): Promise<ReconcileReport[]> {
  const now = options.now ?? Date.now();
  const rowKeys = new Set<string>();
  for await (const key of options.repository.listKeys()) rowKeys.add(key);
  const rowIds = new Set([...rowKeys].map((key) => UUID_V7.exec(key)?.[0]).filter(Boolean));

  const reports: ReconcileReport[] = [];
  for (const store of options.stores) {
    const report: ReconcileReport = {
      store: store.description,
      objectsWithoutRows: [],
      rowsWithoutObjects: [],
      tooRecent: [],
      removed: [],
    };
    const storedKeys = new Set<string>();
    for await (const key of store.listKeys()) {
      storedKeys.add(key);
      // A key belongs to the row whose id it carries (thumbnails and variants included).
      const id = UUID_V7.exec(key)?.[0];
      if (id && rowIds.has(id)) continue;
      if (id && now - uuidV7Time(id) < options.minAgeMs) report.tooRecent.push(key);
      else report.objectsWithoutRows.push(key);
    }
    report.rowsWithoutObjects = [...rowKeys].filter((key) => !storedKeys.has(key));
    if (options.fix) {
      for (const key of report.objectsWithoutRows) {
        await store.delete(key);
        report.removed.push(key);
      }
    }
    reports.push(report);
  }
  return reports;
}
