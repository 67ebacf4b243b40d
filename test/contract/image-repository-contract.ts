import { v7 as uuidv7 } from 'uuid';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import type { ImageRecord } from '../../src/domain/image.js';
import type { ImageRepository } from '../../src/metadata/image-repository.js';

export interface ImageRepositoryFixture {
  repository: ImageRepository;
  cleanup(): Promise<void>;
}

export function imageRecord(overrides: Partial<ImageRecord> = {}): ImageRecord {
  const id = overrides.id ?? uuidv7();
  return {
    id,
    name: 'Ada',
    url: `https://bucket.s3.us-east-1.amazonaws.com/${id}.jpg`,
    key: `${id}.jpg`,
    size: 12_345,
    contentType: 'image/jpeg',
    width: 640,
    height: 480,
    sha256: 'ab'.repeat(32),
    createdAt: new Date('2026-12-03T10:11:12.345Z'),
    originalFilename: 'photo.jpg',
    thumbnailKey: `thumbs/${id}.webp`,
    thumbnailUrl: `https://bucket.s3.us-east-1.amazonaws.com/thumbs/${id}.webp`,
    deleteTokenHash: 'cd'.repeat(32),
    ...overrides,
  };
}

/** What every ImageRepository must do, run against each adapter. */
export function describeImageRepositoryContract(
  name: string,
  createFixture: () => Promise<ImageRepositoryFixture>,
  enabled = true,
) {
  describe.runIf(enabled)(`ImageRepository contract: ${name}`, () => {
    let fixture: ImageRepositoryFixture;
    let repository: ImageRepository;
    beforeAll(async () => {
      fixture = await createFixture();
      repository = fixture.repository;
      await repository.migrate();
    });
    afterAll(async () => {
      await fixture?.cleanup();
    });

    it('migrates once: a second run applies nothing', async () => {
      expect(await repository.migrate()).toBe(0);
    });

    it('stores a record and finds it by id, every field intact (milliseconds included)', async () => {
      const record = imageRecord();
      await repository.insert(record);
      expect(await repository.findById(record.id)).toEqual(record);
    });

    it('answers undefined for an unknown id', async () => {
      expect(await repository.findById(uuidv7())).toBeUndefined();
    });

    it.each(['José Ñúñez', 'Zoë 🦊📸', 'מרים כהן', '<script>alert(1)</script>', '🦊'.repeat(100)])(
      'keeps the name %s byte for byte',
      async (uploaderName) => {
        const record = imageRecord({ name: uploaderName, originalFilename: `${uploaderName}.jpg`.slice(0, 200) });
        await repository.insert(record);
        const found = await repository.findById(record.id);
        expect(Buffer.from(found!.name)).toEqual(Buffer.from(uploaderName));
        expect(found!.originalFilename).toBe(record.originalFilename);
      },
    );

    it('refuses a second record with the same id', async () => {
      const record = imageRecord();
      await repository.insert(record);
      await expect(repository.insert({ ...record, key: 'other.jpg' })).rejects.toThrow();
    });

    it('lists newest first with keyset pages that neither skip nor repeat', async () => {
      const inserted: ImageRecord[] = [];
      for (let i = 0; i < 7; i += 1) {
        const record = imageRecord({ name: `page-${i}` });
        inserted.push(record);
        await repository.insert(record);
      }
      const newestFirst = [...inserted].reverse().map((r) => r.id);
      const firstPage = await repository.listNewest({ limit: 3 });
      expect(firstPage.map((r) => r.id)).toEqual(newestFirst.slice(0, 3));
      const secondPage = await repository.listNewest({ limit: 3, before: firstPage[2]!.id });
      expect(secondPage.map((r) => r.id)).toEqual(newestFirst.slice(3, 6));
      const backToFirst = await repository.listNewest({ limit: 3, after: secondPage[0]!.id });
      expect(backToFirst.map((r) => r.id)).toEqual(newestFirst.slice(0, 3));
    });

    it('deletes by id', async () => {
      const record = imageRecord();
      await repository.insert(record);
      expect(await repository.deleteById(record.id)).toBe(true);
      expect(await repository.deleteById(record.id)).toBe(false);
      expect(await repository.findById(record.id)).toBeUndefined();
    });

    it('lists every object key', async () => {
      const record = imageRecord();
      await repository.insert(record);
      const keys: string[] = [];
      for await (const key of repository.listKeys()) keys.push(key);
      expect(keys).toContain(record.key);
    });

    it('answers a ping', async () => {
      await expect(repository.ping()).resolves.toBeUndefined();
    });
  });
}
