import type { Logger } from 'pino';
import type { Config } from './config/config.js';
import { ImageService } from './domain/image-service.js';
import type { ImageRepository } from './metadata/image-repository.js';
import { MysqlImageRepository } from './metadata/mysql-image-repository.js';
import { SqliteImageRepository } from './metadata/sqlite-image-repository.js';
import type { BlobStore } from './storage/blob-store.js';
import { LocalBlobStore } from './storage/local-blob-store.js';
import { S3BlobStore } from './storage/s3-blob-store.js';

export interface Container {
  services: { images: ImageService };
  repository: ImageRepository;
  blobStore: BlobStore;
  /** Every store images are written to: the blob store, and the local copy folder if kept. */
  stores: BlobStore[];
  /** Set when images live on local disk and the app must serve them itself. */
  uploadsDir?: string;
  /** Origins other than the app's own that images are served from. */
  imageOrigins: string[];
  close(): Promise<void>;
}

export function createRepository(config: Config['database']): ImageRepository {
  return config.driver === 'mysql' ? new MysqlImageRepository(config) : new SqliteImageRepository(config.file);
}

/**
 * Picks the adapters the configuration asks for, migrates the database and wires the services.
 * `startingServer`: also clear what a crashed server left half-written (never for a tool that
 * runs beside a live server).
 */
export async function createContainer(
  config: Config,
  logger: Logger,
  { startingServer = false }: { startingServer?: boolean } = {},
): Promise<Container> {
  const repository = createRepository(config.database);
  const closeables: Array<{ close(): Promise<void> }> = [repository];
  const close = async () => {
    await Promise.allSettled(closeables.map((c) => c.close()));
  };
  try {
    const applied = await repository.migrate();
    if (applied > 0) logger.info({ applied }, 'database migrations applied');

    const storage = config.storage;
    const blobStore: BlobStore =
      storage.driver === 's3' ? new S3BlobStore(storage) : await LocalBlobStore.open(config.uploadDir);
    closeables.push(blobStore);
    const localCopy =
      storage.driver === 's3' && config.keepLocalCopy ? await LocalBlobStore.open(config.uploadDir) : undefined;
    if (startingServer) {
      const localStores = [blobStore, localCopy].filter((s): s is LocalBlobStore => s instanceof LocalBlobStore);
      await Promise.all(localStores.map((store) => store.removeLeftovers()));
    }
    const publicOrigin = (() => {
      try {
        return new URL(blobStore.publicUrl('probe.jpg')).origin;
      } catch {
        return undefined; // root-relative: served by the app itself
      }
    })();

    const images = new ImageService({
      repository,
      blobStore,
      localCopy,
      maxUploadBytes: config.maxUploadBytes,
      maxImagePixels: config.maxImagePixels,
      stripMetadata: config.stripMetadata,
      thumbnails: config.thumbnails,
      logger,
    });
    return {
      services: { images },
      repository,
      blobStore,
      stores: localCopy ? [blobStore, localCopy] : [blobStore],
      uploadsDir: storage.driver === 'local' ? config.uploadDir : undefined,
      imageOrigins: publicOrigin ? [publicOrigin] : [],
      close,
    };
  } catch (error) {
    await close();
    throw error;
  }
}
