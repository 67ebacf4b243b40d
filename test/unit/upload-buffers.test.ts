import { describe, expect, it } from 'vitest';
import { PassThrough } from 'node:stream';
import type { Request } from 'express';
import { pooledMemoryStorage, UploadBufferPool } from '../../src/http/upload-buffers.js';

describe('UploadBufferPool', () => {
  it('hands a released buffer to the next upload, and never one buffer to two uploads', () => {
    const pool = new UploadBufferPool(16, 2);
    const first = pool.acquire();
    expect(first.length).toBe(16);
    pool.release(first.subarray(0, 3)); // the handler releases the view it was given
    const second = pool.acquire();
    expect(second.buffer).toBe(first.buffer);
    pool.release(second);
    pool.release(second); // twice: must not go into the free list twice
    const [a, b] = [pool.acquire(), pool.acquire()];
    expect(a.buffer).not.toBe(b.buffer);
  });

  it('keeps at most `keep` buffers, and ignores buffers it did not hand out', () => {
    const pool = new UploadBufferPool(8, 1);
    const [a, b] = [pool.acquire(), pool.acquire()];
    pool.release(a);
    pool.release(b);
    pool.release(Buffer.alloc(8));
    const [c, d] = [pool.acquire(), pool.acquire()];
    expect(c.buffer).toBe(a.buffer);
    expect(d.buffer).not.toBe(b.buffer);
  });
});

describe('UploadBufferPool with large limits', () => {
  it('keeps no more than MAX_KEPT_BYTES, and then sizes each buffer by the request', () => {
    const bufferBytes = 100 * 1024 * 1024 + 1; // MAX_UPLOAD_BYTES at its highest
    const pool = new UploadBufferPool(bufferBytes, 4);
    const small = pool.acquire(20_000);
    expect(small.length).toBe(20_000);
    pool.release(small);
    expect(pool.acquire(30_000).buffer).not.toBe(small.buffer);
    expect(pool.acquire().length).toBe(bufferBytes); // no Content-Length: room for the limit
  });
});

describe('pooledMemoryStorage', () => {
  it('calls multer back once, and keeps the buffer leased, when the stream errors after its end', async () => {
    const pool = new UploadBufferPool(16, 2);
    const stream = new PassThrough();
    const calls: Array<[unknown, { buffer?: Buffer } | undefined]> = [];
    const file = { stream } as unknown as Express.Multer.File;
    const request = { headers: {} } as Request;
    pooledMemoryStorage(pool)._handleFile(request, file, (error, info) => calls.push([error, info]));
    stream.end(Buffer.from('abc'));
    await new Promise((resolve) => stream.once('end', resolve));
    stream.emit('error', new Error('late'));
    expect(calls).toHaveLength(1);
    expect(calls[0]![0]).toBeNull();
    const stored = calls[0]![1]!.buffer!;
    expect(stored.toString()).toBe('abc');
    expect(pool.acquire().buffer).not.toBe(stored.buffer);
  });
});
