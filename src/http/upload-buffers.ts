import type { StorageEngine } from 'multer';

/**
 * Buffers for upload bodies, reused from one upload to the next.
 *
 * An upload's bytes live for as long as it is checked and stored: hundreds of milliseconds
 * under load, long enough for V8 to move a fresh buffer to the old generation, where it waits
 * for a full collection. V8 starts one only after ~64 MiB more of such memory, so at 1 MiB per
 * upload the process would carry tens of MiB of dead bodies. At most `keep` buffers are kept
 * (one per upload slot, and never more than MAX_KEPT_BYTES in all); past that, uploads get a
 * fresh buffer, no larger than their request, and the GC has it back.
 */
export class UploadBufferPool {
  static readonly MAX_KEPT_BYTES = 32 * 1024 * 1024;
  private readonly free: ArrayBuffer[] = [];
  /** Handed out and not yet back: guards against giving one buffer to two uploads. */
  private readonly leased = new WeakSet<ArrayBuffer>();
  private readonly keep: number;

  constructor(
    readonly bufferBytes: number,
    keep: number,
  ) {
    this.keep = Math.min(keep, Math.floor(UploadBufferPool.MAX_KEPT_BYTES / bufferBytes));
  }

  /** @param requestBytes the request's Content-Length, when it has one: the file fits in it. */
  acquire(requestBytes?: number): Buffer {
    const pooled = this.free.pop();
    const memory =
      pooled ??
      new ArrayBuffer(
        this.keep === 0 && requestBytes !== undefined && requestBytes < this.bufferBytes
          ? requestBytes
          : this.bufferBytes,
      );
    this.leased.add(memory);
    return Buffer.from(memory);
  }

  /** Takes back the buffer `bytes` was cut from, once nothing reads `bytes` any more. */
  release(bytes: Buffer): void {
    const memory = bytes.buffer;
    if (!(memory instanceof ArrayBuffer) || !this.leased.delete(memory)) return;
    if (this.free.length < this.keep && memory.byteLength === this.bufferBytes) this.free.push(memory);
  }
}

/**
 * A multer storage engine like `memoryStorage`, but each chunk is copied into a buffer from the
 * pool as it arrives (`file.buffer` is a view of it), instead of all chunks being kept until
 * the end and then concatenated. Whoever handles the upload gives the buffer back with
 * `pool.release(file.buffer)`; multer does so itself for a file it discards.
 */
export function pooledMemoryStorage(pool: UploadBufferPool): StorageEngine {
  return {
    _handleFile(req, file, callback) {
      const declared = Number(req.headers['content-length']);
      const buffer = pool.acquire(Number.isSafeInteger(declared) && declared >= 0 ? declared : undefined);
      let size = 0;
      let settled = false; // multer's callback is called once: an error after 'end' is ignored
      const fail = (error: Error) => {
        if (settled) return;
        settled = true;
        pool.release(buffer);
        callback(error);
      };
      file.stream.on('data', (chunk: Buffer) => {
        if (settled) return;
        // multer's fileSize limit (the same size) stops the stream first; this is a backstop.
        if (size + chunk.length > buffer.length) {
          fail(new RangeError(`upload larger than ${buffer.length} bytes`));
          file.stream.resume();
          return;
        }
        chunk.copy(buffer, size);
        size += chunk.length;
      });
      file.stream.once('error', fail);
      file.stream.once('end', () => {
        if (settled) return;
        settled = true;
        callback(null, { buffer: buffer.subarray(0, size), size });
      });
    },
    _removeFile(_req, file, callback) {
      if (file.buffer) pool.release(file.buffer);
      callback(null);
    },
  };
}
