import { mkdtemp, readdir, rm, writeFile } from 'node:fs/promises';
import type { AddressInfo } from 'node:net';
import os from 'node:os';
import path from 'node:path';
import express from 'express';
import { describe, expect, it } from 'vitest';
import { StorageUnavailableError } from '../../src/domain/errors.js';
import { LocalBlobStore } from '../../src/storage/local-blob-store.js';
import { S3BlobStore } from '../../src/storage/s3-blob-store.js';
import { createTestBucket, s3Endpoint } from '../support/services.js';
import { describeBlobStoreContract } from './blob-store-contract.js';

const S3_DEFAULTS = {
  region: 'us-east-1',
  forcePathStyle: true,
  acl: 'public-read',
  cacheControl: 'public, max-age=31536000, immutable',
} as const;

describeBlobStoreContract('local disk', async () => {
  const dir = await mkdtemp(path.join(os.tmpdir(), 'snapstore-local-'));
  const store = await LocalBlobStore.open(dir);
  // Served the way the app serves it, so the public URL is really fetched over HTTP.
  const server = express()
    .use('/uploads', express.static(dir, { maxAge: '365d', immutable: true }))
    .listen(0, '127.0.0.1');
  await new Promise((resolve) => server.once('listening', resolve));
  const origin = `http://127.0.0.1:${(server.address() as AddressInfo).port}`;
  return {
    store,
    fetchPublic: (url) => fetch(new URL(url, origin)),
    async cleanup() {
      server.close();
      await rm(dir, { recursive: true, force: true });
    },
  };
});

describeBlobStoreContract(
  'S3 (s3rver)',
  async () => {
    const bucket = await createTestBucket();
    const store = new S3BlobStore({ ...S3_DEFAULTS, bucket: bucket.bucket, endpoint: s3Endpoint! });
    return {
      store,
      fetchPublic: (url) => fetch(url),
      async cleanup() {
        await store.close();
        await bucket.drop();
      },
    };
  },
  s3Endpoint !== null,
);

describe('LocalBlobStore', () => {
  it.each(['../escape.jpg', '/etc/passwd', 'a/../../b.jpg', 'photo.jpg/../../x.png', '.hidden.jpg', 'no-extension'])(
    'refuses the unsafe key %s',
    async (key) => {
      const dir = await mkdtemp(path.join(os.tmpdir(), 'snapstore-local-'));
      const store = await LocalBlobStore.open(dir);
      await expect(store.put(key, Buffer.from('x'), { contentType: 'image/jpeg', sha256: '' })).rejects.toThrow(
        /unsafe storage key/,
      );
      await rm(dir, { recursive: true, force: true });
    },
  );

  it('removes partial files a crash left behind when asked (at server start), never when merely opened', async () => {
    const dir = await mkdtemp(path.join(os.tmpdir(), 'snapstore-local-'));
    await writeFile(path.join(dir, 'kept.jpg'), 'x');
    await writeFile(path.join(dir, 'kept.jpg.1a2b3c.partial'), 'half');
    const store = await LocalBlobStore.open(dir);
    expect((await readdir(dir)).sort()).toEqual(['kept.jpg', 'kept.jpg.1a2b3c.partial']);
    await store.removeLeftovers();
    expect(await readdir(dir)).toEqual(['kept.jpg']);
    await rm(dir, { recursive: true, force: true });
  });
});

describe.runIf(s3Endpoint !== null)('S3BlobStore', () => {
  it('builds public URLs: virtual-hosted on AWS, path-style on a custom endpoint, or under S3_PUBLIC_BASE_URL', async () => {
    const aws = new S3BlobStore({ ...S3_DEFAULTS, forcePathStyle: false, bucket: 'photos', region: 'eu-west-1' });
    expect(aws.publicUrl('a.jpg')).toBe('https://photos.s3.eu-west-1.amazonaws.com/a.jpg');
    const custom = new S3BlobStore({ ...S3_DEFAULTS, bucket: 'photos', endpoint: 'http://minio:9000' });
    expect(custom.publicUrl('a.jpg')).toBe('http://minio:9000/photos/a.jpg');
    const cdn = new S3BlobStore({ ...S3_DEFAULTS, bucket: 'photos', publicBaseUrl: 'https://cdn.example.com' });
    expect(cdn.publicUrl('a.jpg')).toBe('https://cdn.example.com/a.jpg');
    await Promise.all([aws.close(), custom.close(), cdn.close()]);
  });

  it('turns an unreachable endpoint into StorageUnavailableError', async () => {
    const store = new S3BlobStore({ ...S3_DEFAULTS, bucket: 'photos', endpoint: 'http://127.0.0.1:9' });
    await expect(store.check()).rejects.toThrow(StorageUnavailableError);
    await store.close();
  });

  it('names a missing bucket', async () => {
    const store = new S3BlobStore({ ...S3_DEFAULTS, bucket: 'no-such-bucket-here', endpoint: s3Endpoint! });
    await expect(
      store.put('a.jpg', Buffer.from('x'), { contentType: 'image/jpeg', sha256: '0'.repeat(64) }),
    ).rejects.toThrow(/bucket no-such-bucket-here does not exist/);
    await store.close();
  });
});

describe('LocalBlobStore folders', () => {
  it('writes again after its folder was removed while it ran', async () => {
    const dir = await mkdtemp(path.join(os.tmpdir(), 'snapstore-local-'));
    const store = await LocalBlobStore.open(dir);
    await store.put('thumbs/a.webp', Buffer.from('x'), { contentType: 'image/webp', sha256: '' });
    await rm(path.join(dir, 'thumbs'), { recursive: true });
    await store.put('thumbs/b.webp', Buffer.from('y'), { contentType: 'image/webp', sha256: '' });
    expect(await readdir(path.join(dir, 'thumbs'))).toEqual(['b.webp']);
    await rm(dir, { recursive: true, force: true });
  });
});
