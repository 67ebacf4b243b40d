import { describe, expect, it } from 'vitest';
import { UploadBufferPool } from '../../src/http/upload-buffers.js';

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
