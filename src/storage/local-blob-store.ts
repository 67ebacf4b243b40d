import { randomBytes } from 'node:crypto';
import { mkdir, readFile, readdir, rename, rm, writeFile } from 'node:fs/promises';
import path from 'node:path';
import { StorageUnavailableError } from '../domain/errors.js';
import { SAFE_KEY, type BlobStore } from './blob-store.js';

const PARTIAL_SUFFIX = '.partial';

/** Images in a folder on this machine, served by the app under `urlPrefix`. */
export class LocalBlobStore implements BlobStore {
  readonly description: string;
  private readonly root: string;
  /** Folders known to exist, so that a put costs no mkdir call on the hot path. */
  private readonly folders = new Set<string>();

  private constructor(
    root: string,
    private readonly urlPrefix: string,
  ) {
    this.root = path.resolve(root);
    this.description = `local:${this.root}`;
  }

  /** Creates the folder if needed. */
  static async open(root: string, urlPrefix = '/uploads'): Promise<LocalBlobStore> {
    const store = new LocalBlobStore(root, urlPrefix);
    await mkdir(store.root, { recursive: true });
    return store;
  }

  /**
   * Removes the partial files a crash left behind (a write goes to `<key>.<random>.partial`
   * first and is renamed into place when complete). Only for a server starting up: anything
   * else running beside a live server (reconcile) would delete writes in progress.
   */
  async removeLeftovers(): Promise<void> {
    const entries = await readdir(this.root, { recursive: true, withFileTypes: true });
    await Promise.all(
      entries
        .filter((e) => e.isFile() && e.name.endsWith(PARTIAL_SUFFIX))
        .map((e) => rm(path.join(e.parentPath, e.name), { force: true })),
    );
  }

  /** Resolves a key to a path inside the root; anything that could escape it is refused. */
  pathFor(key: string): string {
    const resolved = path.resolve(this.root, key);
    if (!SAFE_KEY.test(key) || !resolved.startsWith(this.root + path.sep)) {
      throw new Error(`refusing unsafe storage key ${JSON.stringify(key)}`);
    }
    return resolved;
  }

  async put(key: string, bytes: Buffer, _options?: { contentType: string; sha256: string }): Promise<void> {
    const target = this.pathFor(key);
    const partial = `${target}.${randomBytes(6).toString('hex')}${PARTIAL_SUFFIX}`;
    try {
      const folder = path.dirname(target);
      if (!this.folders.has(folder)) await this.createFolder(folder);
      await writeFile(partial, bytes, { flag: 'wx' }).catch(async (error: NodeJS.ErrnoException) => {
        if (error.code !== 'ENOENT') throw error;
        await this.createFolder(folder); // removed while the app was running
        await writeFile(partial, bytes, { flag: 'wx' });
      });
      await rename(partial, target);
    } catch (cause) {
      await rm(partial, { force: true }).catch(() => undefined);
      throw new StorageUnavailableError(
        `Could not write to the uploads folder (${(cause as NodeJS.ErrnoException).code ?? 'error'}): check that ${this.root} exists, is writable and has free space.`,
        { cause },
      );
    }
  }

  private async createFolder(folder: string): Promise<void> {
    await mkdir(folder, { recursive: true });
    this.folders.add(folder);
  }

  async get(key: string): Promise<Buffer | undefined> {
    try {
      return await readFile(this.pathFor(key));
    } catch (error) {
      if ((error as NodeJS.ErrnoException).code === 'ENOENT') return undefined;
      throw error;
    }
  }

  async delete(key: string): Promise<void> {
    await rm(this.pathFor(key), { force: true });
  }

  async *listKeys(): AsyncIterable<string> {
    const entries = await readdir(this.root, { recursive: true, withFileTypes: true });
    for (const entry of entries) {
      if (!entry.isFile()) continue;
      const key = path.relative(this.root, path.join(entry.parentPath, entry.name)).split(path.sep).join('/');
      if (SAFE_KEY.test(key)) yield key;
    }
  }

  publicUrl(key: string): string {
    return `${this.urlPrefix}/${key}`;
  }

  /** A real write in every folder in use (permission bits say nothing when running as root). */
  async check(): Promise<void> {
    for (const folder of [this.root, ...this.folders]) {
      const probe = path.join(folder, `.readiness-probe-${process.pid}${PARTIAL_SUFFIX}`);
      try {
        await writeFile(probe, '');
        await rm(probe, { force: true });
      } catch (cause) {
        throw new StorageUnavailableError(`The uploads folder ${folder} is not writable.`, { cause });
      }
    }
  }

  async close(): Promise<void> {}
}
