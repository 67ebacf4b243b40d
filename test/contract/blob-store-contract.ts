import { createHash } from 'node:crypto';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import type { BlobStore } from '../../src/storage/blob-store.js';
import { sample } from '../support/samples.js';

export interface BlobStoreFixture {
  store: BlobStore;
  /** Fetches a public URL the way a visitor would: anonymous HTTP. */
  fetchPublic(url: string): Promise<Response>;
  cleanup(): Promise<void>;
}

const sha256 = (bytes: Buffer) => createHash('sha256').update(bytes).digest('hex');

/** What every BlobStore must do, run against each adapter. */
export function describeBlobStoreContract(
  name: string,
  createFixture: () => Promise<BlobStoreFixture>,
  enabled = true,
) {
  describe.runIf(enabled)(`BlobStore contract: ${name}`, () => {
    let fixture: BlobStoreFixture;
    let store: BlobStore;
    beforeAll(async () => {
      fixture = await createFixture();
      store = fixture.store;
    });
    afterAll(async () => {
      await fixture?.cleanup();
    });

    const jpeg = sample('jpg/DSCN0010.jpg');
    const png = sample('png/basn6a08.png');

    it('stores bytes and gives the same bytes back', async () => {
      await store.put('0001-get.jpg', jpeg, { contentType: 'image/jpeg', sha256: sha256(jpeg) });
      expect((await store.get('0001-get.jpg'))?.equals(jpeg)).toBe(true);
    });

    it('publishes the object byte for byte, with its content type, at its public URL', async () => {
      await store.put('0002-public.png', png, { contentType: 'image/png', sha256: sha256(png) });
      const response = await fixture.fetchPublic(store.publicUrl('0002-public.png'));
      expect(response.status).toBe(200);
      expect(response.headers.get('content-type')).toBe('image/png');
      expect(response.headers.get('cache-control')).toMatch(/max-age=31536000/);
      expect(sha256(Buffer.from(await response.arrayBuffer()))).toBe(sha256(png));
    });

    it('answers undefined for a missing object, and deleting one is not an error', async () => {
      expect(await store.get('0003-missing.jpg')).toBeUndefined();
      await expect(store.delete('0003-missing.jpg')).resolves.toBeUndefined();
    });

    it('deletes an object', async () => {
      await store.put('0004-delete.jpg', jpeg, { contentType: 'image/jpeg', sha256: sha256(jpeg) });
      await store.delete('0004-delete.jpg');
      expect(await store.get('0004-delete.jpg')).toBeUndefined();
    });

    it('replaces an object stored under the same key', async () => {
      await store.put('0005-replace.png', jpeg, { contentType: 'image/jpeg', sha256: sha256(jpeg) });
      await store.put('0005-replace.png', png, { contentType: 'image/png', sha256: sha256(png) });
      expect((await store.get('0005-replace.png'))?.equals(png)).toBe(true);
    });

    it('lists every stored key, including keys under a prefix', async () => {
      await store.put('thumbs/0006-list.png', png, { contentType: 'image/png', sha256: sha256(png) });
      const keys: string[] = [];
      for await (const key of store.listKeys()) keys.push(key);
      expect(keys).toEqual(
        expect.arrayContaining(['0001-get.jpg', '0002-public.png', '0005-replace.png', 'thumbs/0006-list.png']),
      );
      expect(keys).not.toContain('0004-delete.jpg');
    });

    it('reports itself ready', async () => {
      await expect(store.check()).resolves.toBeUndefined();
    });
  });
}
