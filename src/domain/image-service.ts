import { createHash } from 'node:crypto';
import { v7 as uuidv7, validate as isUuid } from 'uuid';
import type { BlobStore } from '../storage/blob-store.js';
import type { ImageRepository } from '../metadata/image-repository.js';
import { EXTENSION_BY_TYPE, type ImagePage, type ImageRecord } from './image.js';
import { inspectImage } from './image-inspector.js';
import { parseUploaderName } from './uploader-name.js';
import { AppError, FileTooLargeError, InvalidQueryError, MissingFileError, NotFoundError } from './errors.js';
import { messages } from './messages.js';

export interface UploadInput {
  name: unknown;
  file?: { bytes: Buffer; originalName?: string };
}

export interface Logger {
  warn(obj: object, msg: string): void;
}

export interface ImageServiceOptions {
  repository: ImageRepository;
  blobStore: BlobStore;
  /** A second, local copy kept beside a remote blob store (the original design's uploads/). */
  localCopy?: BlobStore;
  maxUploadBytes: number;
  maxImagePixels: number;
  logger: Logger;
}

export type Readiness = Record<'database' | 'storage', { ok: true } | { ok: false; error: string }>;

export const MAX_PAGE_SIZE = 100;

/** Upload, look up and list images; the one place that decides what is stored and when. */
export class ImageService {
  constructor(private readonly options: ImageServiceOptions) {}

  /**
   * Checks the upload, stores it and records it. Either everything is stored or nothing is.
   * @throws InvalidNameError, MissingFileError, FileTooLargeError, UnsupportedTypeError,
   *   TooManyPixelsError for bad input; StorageUnavailableError or DatabaseUnavailableError
   *   when a backend fails (after removing whatever was already written).
   */
  async upload(input: UploadInput): Promise<ImageRecord> {
    const { repository, blobStore, localCopy, maxUploadBytes, maxImagePixels } = this.options;
    const name = parseUploaderName(input.name);
    const file = input.file;
    if (!file) throw new MissingFileError(messages.missingFile);
    if (file.bytes.length === 0) throw new MissingFileError(`The file is empty (0 bytes). ${messages.missingFile}`);
    if (file.bytes.length > maxUploadBytes) throw new FileTooLargeError(messages.fileTooLarge(maxUploadBytes));

    const inspected = await inspectImage(file.bytes, maxImagePixels);
    const id = uuidv7();
    const key = `${id}.${EXTENSION_BY_TYPE[inspected.contentType]}`;
    const sha256 = createHash('sha256').update(file.bytes).digest('hex');
    const record: ImageRecord = {
      id,
      name,
      url: blobStore.publicUrl(key),
      key,
      size: file.bytes.length,
      contentType: inspected.contentType,
      width: inspected.width,
      height: inspected.height,
      sha256,
      createdAt: new Date(),
      originalFilename: file.originalName?.slice(0, 255) || null,
    };

    const stores = localCopy ? [blobStore, localCopy] : [blobStore];
    const writes = await Promise.allSettled(
      stores.map((store) => store.put(key, file.bytes, { contentType: inspected.contentType, sha256 })),
    );
    const failed = writes.find((w): w is PromiseRejectedResult => w.status === 'rejected');
    if (failed) {
      await this.removeQuietly(
        key,
        stores.filter((_, i) => writes[i]!.status === 'fulfilled'),
      );
      throw failed.reason;
    }

    try {
      await repository.insert(record);
    } catch (error) {
      await this.removeQuietly(key, stores);
      throw error;
    }
    return record;
  }

  /** @throws NotFoundError when no image has that id. */
  async get(id: string): Promise<ImageRecord> {
    const image = isUuid(id) ? await this.options.repository.findById(id.toLowerCase()) : undefined;
    if (!image) throw new NotFoundError(messages.imageNotFound);
    return image;
  }

  /**
   * Newest first. `cursor` is the `nextCursor` of the previous page.
   * @throws InvalidQueryError for a limit outside 1..100 or a cursor that is not one of ours.
   */
  async list(query: { limit?: number; cursor?: string }): Promise<ImagePage> {
    const limit = query.limit ?? 24;
    if (!Number.isInteger(limit) || limit < 1 || limit > MAX_PAGE_SIZE) throw new InvalidQueryError(messages.badLimit);
    if (query.cursor !== undefined && !isUuid(query.cursor)) throw new InvalidQueryError(messages.badCursor);
    const rows = await this.options.repository.listNewest({ limit: limit + 1, before: query.cursor?.toLowerCase() });
    const items = rows.slice(0, limit);
    return { items, nextCursor: rows.length > limit ? items[items.length - 1]!.id : null };
  }

  /** Whether the database and the storage answer; never throws. */
  async readiness(): Promise<Readiness> {
    const probe = async (check: () => Promise<void>) => {
      try {
        await check();
        return { ok: true as const };
      } catch (error) {
        return { ok: false as const, error: error instanceof AppError ? error.message : String(error) };
      }
    };
    const [database, storage] = await Promise.all([
      probe(() => this.options.repository.ping()),
      probe(() => this.options.blobStore.check()),
    ]);
    return { database, storage };
  }

  private async removeQuietly(key: string, stores: BlobStore[]): Promise<void> {
    await Promise.all(
      stores.map((store) =>
        store.delete(key).catch((error: unknown) => {
          // Reconcile (npm run reconcile) finds and removes what is left behind here.
          this.options.logger.warn(
            { err: error, key, store: store.description },
            'could not remove object after a failed upload',
          );
        }),
      ),
    );
  }
}
