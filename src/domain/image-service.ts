import { createHash, randomBytes, timingSafeEqual } from 'node:crypto';
import { v7 as uuidv7, validate as isUuid } from 'uuid';
import type { BlobStore } from '../storage/blob-store.js';
import type { ImageRepository } from '../metadata/image-repository.js';
import { EXTENSION_BY_TYPE, type ImagePage, type ImageRecord } from './image.js';
import { assertDecodable, readImageHeader } from './image-inspector.js';
import { thumbnailOf, withoutMetadata } from './image-processing.js';
import { parseUploaderName } from './uploader-name.js';
import {
  AppError,
  DatabaseUnavailableError,
  DeleteTokenRequiredError,
  FileTooLargeError,
  ForbiddenError,
  InvalidQueryError,
  MissingFileError,
  NotFoundError,
} from './errors.js';
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
  /** Publish without EXIF/XMP/IPTC (GPS, device, time), upright. */
  stripMetadata: boolean;
  /** Store a small WebP beside each original, for galleries. */
  thumbnails: boolean;
  logger: Logger;
}

export interface UploadedImage {
  image: ImageRecord;
  /** Handed out once: the only way to delete the image later. Only its hash is kept. */
  deleteToken: string;
}

export type Readiness = Record<'database' | 'storage', { ok: true } | { ok: false; error: string }>;

export const MAX_PAGE_SIZE = 100;

/** Load balancers poll /readyz every few seconds and give up after a few more. */
const READINESS_TIMEOUT_MS = 3_000;

class ReadinessTimeoutError extends AppError {
  readonly code = 'timeout';
  readonly status = 503;
  constructor(ms: number) {
    super(`no answer within ${ms / 1000} s`);
  }
}

/**
 * Promise.all that waits for every promise before rejecting (with the first failure), so no
 * step still reads the upload's bytes when upload() returns: the caller reuses that memory.
 */
async function allSettledFirstFailure<T extends readonly unknown[]>(promises: {
  [K in keyof T]: Promise<T[K]> | T[K];
}): Promise<T> {
  let failure: { reason: unknown } | undefined;
  const results = await Promise.all(
    promises.map((step) =>
      Promise.resolve(step).catch((reason: unknown) => {
        failure ??= { reason };
        return undefined;
      }),
    ),
  );
  if (failure) throw failure.reason;
  return results as unknown as T;
}

const sha256Hex = (bytes: Buffer | string) => createHash('sha256').update(bytes).digest('hex');

/** Upload, look up, list and delete images; the one place that decides what is stored and when. */
export class ImageService {
  private readonly stores: BlobStore[];

  constructor(private readonly options: ImageServiceOptions) {
    this.stores = options.localCopy ? [options.blobStore, options.localCopy] : [options.blobStore];
  }

  /**
   * Checks the upload, stores it and records it. Either everything is stored or nothing is.
   * @throws InvalidNameError, MissingFileError, FileTooLargeError, UnsupportedTypeError,
   *   TooManyPixelsError for bad input; StorageUnavailableError or DatabaseUnavailableError
   *   when a backend fails (after removing whatever was already written).
   */
  async upload(input: UploadInput): Promise<UploadedImage> {
    const { repository, blobStore, maxUploadBytes, maxImagePixels } = this.options;
    const name = parseUploaderName(input.name);
    const file = input.file;
    if (!file) throw new MissingFileError(messages.missingFile);
    if (file.bytes.length === 0) throw new MissingFileError(`The file is empty (0 bytes). ${messages.missingFile}`);
    if (file.bytes.length > maxUploadBytes) throw new FileTooLargeError(messages.fileTooLarge(maxUploadBytes));

    const inspected = await readImageHeader(file.bytes, maxImagePixels);
    // Every branch below decodes the pixels (the thumbnail, or a cheap decode when thumbnails
    // are off), which is what proves a file that merely looks like an image is one.
    const [published, thumbnail] = await allSettledFirstFailure([
      this.options.stripMetadata
        ? withoutMetadata(file.bytes, inspected, { maxPixels: maxImagePixels, maxBytes: maxUploadBytes })
        : { bytes: file.bytes, width: inspected.width, height: inspected.height },
      this.options.thumbnails
        ? thumbnailOf(file.bytes, inspected.contentType, maxImagePixels)
        : assertDecodable(file.bytes, inspected).then(() => undefined),
    ]);

    const id = uuidv7();
    const key = `${id}.${EXTENSION_BY_TYPE[inspected.contentType]}`;
    const thumbnailKey = thumbnail ? `thumbs/${id}.webp` : null;
    const sha256 = sha256Hex(published.bytes);
    const deleteToken = randomBytes(24).toString('base64url');
    const image: ImageRecord = {
      id,
      name,
      url: blobStore.publicUrl(key),
      key,
      size: published.bytes.length,
      contentType: inspected.contentType,
      width: published.width,
      height: published.height,
      sha256,
      createdAt: new Date(),
      originalFilename: file.originalName?.slice(0, 255) || null,
      thumbnailKey,
      thumbnailUrl: thumbnailKey && blobStore.publicUrl(thumbnailKey),
      deleteTokenHash: sha256Hex(deleteToken),
    };

    const objects = [{ key, bytes: published.bytes, contentType: inspected.contentType, sha256 }];
    if (thumbnail && thumbnailKey) {
      objects.push({ key: thumbnailKey, bytes: thumbnail, contentType: 'image/webp', sha256: sha256Hex(thumbnail) });
    }
    const writes = this.stores.flatMap((store) =>
      objects.map((object) => ({ store, key: object.key, done: store.put(object.key, object.bytes, object) })),
    );
    const results = await Promise.allSettled(writes.map((w) => w.done));
    const failed = results.find((r): r is PromiseRejectedResult => r.status === 'rejected');
    if (failed) {
      await this.removeQuietly(writes.filter((_, i) => results[i]!.status === 'fulfilled'));
      throw failed.reason;
    }

    try {
      await repository.insert(image);
    } catch (error) {
      // When the database may yet keep the row, removing the objects could leave a row that
      // points at nothing; reconcile removes them later if no row appears.
      if (error instanceof DatabaseUnavailableError && error.outcomeUnknown) {
        this.options.logger.warn({ err: error, id }, 'insert outcome unknown: objects left for reconcile');
      } else {
        await this.removeQuietly(writes);
      }
      throw error;
    }
    return { image, deleteToken };
  }

  /** @throws NotFoundError when no image has that id. */
  async get(id: string): Promise<ImageRecord> {
    const image = isUuid(id) ? await this.options.repository.findById(id.toLowerCase()) : undefined;
    if (!image) throw new NotFoundError(messages.imageNotFound);
    return image;
  }

  /**
   * Removes every object first, then the row: if storage fails, the image stays listed and
   * the same request can simply be sent again (deleting a missing object is no error).
   * @throws NotFoundError for an unknown id; DeleteTokenRequiredError without a token;
   *   ForbiddenError when the token does not match.
   */
  async delete(id: string, deleteToken: string | undefined): Promise<void> {
    const image = await this.get(id);
    if (!deleteToken) throw new DeleteTokenRequiredError(messages.deleteTokenRequired);
    const expected = Buffer.from(image.deleteTokenHash ?? '', 'hex');
    const given = Buffer.from(sha256Hex(deleteToken ?? ''), 'hex');
    if (expected.length !== given.length || !timingSafeEqual(expected, given)) {
      throw new ForbiddenError(messages.wrongDeleteToken);
    }
    const keys = [image.key, ...(image.thumbnailKey ? [image.thumbnailKey] : [])];
    await Promise.all(this.stores.flatMap((store) => keys.map((key) => store.delete(key))));
    await this.options.repository.deleteById(image.id);
  }

  /**
   * Newest first. `cursor` is the `nextCursor` of the previous page (older images); `after` is
   * its `prevCursor` (newer images).
   * @throws InvalidQueryError for a limit outside 1..100 or a cursor that is not one of ours.
   */
  async list(query: { limit?: number; cursor?: string; after?: string }): Promise<ImagePage> {
    const limit = query.limit ?? 24;
    if (!Number.isInteger(limit) || limit < 1 || limit > MAX_PAGE_SIZE) throw new InvalidQueryError(messages.badLimit);
    for (const id of [query.cursor, query.after]) {
      if (id !== undefined && !isUuid(id)) throw new InvalidQueryError(messages.badCursor);
    }
    if (query.cursor !== undefined && query.after !== undefined) throw new InvalidQueryError(messages.badCursor);
    const { repository } = this.options;

    if (query.after !== undefined) {
      // One row more than asked says whether there is a newer page still.
      const rows = await repository.listNewest({ limit: limit + 1, after: query.after.toLowerCase() });
      const items = rows.length > limit ? rows.slice(1) : rows;
      return {
        items,
        nextCursor: items.at(-1)?.id ?? null,
        prevCursor: rows.length > limit ? items[0]!.id : null,
      };
    }
    const rows = await repository.listNewest({ limit: limit + 1, before: query.cursor?.toLowerCase() });
    const items = rows.slice(0, limit);
    return {
      items,
      nextCursor: rows.length > limit ? items.at(-1)!.id : null,
      prevCursor: query.cursor !== undefined ? (items[0]?.id ?? null) : null,
    };
  }

  /** Whether the database and the storage answer; never throws. */
  async readiness(): Promise<Readiness> {
    const probe = async (check: () => Promise<void>) => {
      let timer: NodeJS.Timeout | undefined;
      try {
        await Promise.race([
          check(),
          new Promise<never>((_, reject) => {
            timer = setTimeout(() => reject(new ReadinessTimeoutError(READINESS_TIMEOUT_MS)), READINESS_TIMEOUT_MS);
          }),
        ]);
        return { ok: true as const };
      } catch (error) {
        return { ok: false as const, error: describeFailure(error) };
      } finally {
        clearTimeout(timer);
      }
    };
    const [database, storage] = await Promise.all([
      probe(() => this.options.repository.ping()),
      probe(() => this.options.blobStore.check()),
    ]);
    return { database, storage };
  }

  private async removeQuietly(writes: Array<{ store: BlobStore; key: string }>): Promise<void> {
    await Promise.all(
      writes.map(({ store, key }) =>
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

/**
 * For operators: our message, plus the underlying error's code or name. Never the underlying
 * message: /readyz is public, and driver messages can name users and hosts.
 */
function describeFailure(error: unknown): string {
  const message = error instanceof AppError ? error.message : 'unexpected error';
  const cause = (error as { cause?: { code?: unknown; name?: unknown } }).cause;
  const detail = cause?.code ?? cause?.name;
  return typeof detail === 'string' && detail !== 'Error' ? `${message} (${detail})` : message;
}
