// The upload set: the repository's sample JPEGs and PNGs, plus generated ~1 MB noise JPEGs.
import { createHash } from 'node:crypto';
import { readdirSync, readFileSync } from 'node:fs';
import { writeFile } from 'node:fs/promises';
import path from 'node:path';
import sharp from 'sharp';

const SAMPLE_DIRS = [
  ['test/fixtures/samples/jpg', 'image/jpeg'],
  ['test/fixtures/samples/png', 'image/png'],
];
const TARGET_BYTES = 1_000_000;
const MAX_BYTES = 1024 * 1024;
const ASPECTS = [
  [3, 2],
  [4, 3],
  [1, 1],
  [2, 3],
];

/** Deterministic xorshift noise, 3 channels. */
function noise(width, height, seed) {
  const buffer = Buffer.alloc(width * height * 3);
  let x = seed >>> 0 || 1;
  for (let i = 0; i < buffer.length; i++) {
    x ^= x << 13;
    x >>>= 0;
    x ^= x >>> 17;
    x ^= x << 5;
    x >>>= 0;
    buffer[i] = x & 255;
  }
  return buffer;
}

/** A valid noise JPEG of about TARGET_BYTES (within 1.5 %), never above 1 MiB. */
async function noiseJpeg(seed, [aw, ah]) {
  let scale = Math.sqrt(TARGET_BYTES / 0.9 / (aw * ah)); // first guess: ~0.9 byte per pixel at q85
  for (let attempt = 0; attempt < 12; attempt++) {
    const width = Math.max(16, Math.round(aw * scale));
    const height = Math.max(16, Math.round(ah * scale));
    const bytes = await sharp(noise(width, height, seed), { raw: { width, height, channels: 3 } })
      .jpeg({ quality: 85 })
      .toBuffer();
    if (Math.abs(bytes.length - TARGET_BYTES) <= TARGET_BYTES * 0.015 && bytes.length <= MAX_BYTES) {
      return { bytes, width, height };
    }
    scale *= Math.sqrt(TARGET_BYTES / bytes.length);
  }
  throw new Error(`could not size a noise JPEG near ${TARGET_BYTES} bytes`);
}

/**
 * Writes the upload set to `dir` and returns its manifest: one entry per file with what the
 * floor needs to write the same row without looking at the bytes (size, type, dimensions, sha256).
 * @returns {Promise<{ mixed: object[], large: object[] }>} `mixed`: every file; `large`: the ~1 MB ones.
 */
export async function prepareFiles(repoRoot, dir, { generated = 4 } = {}) {
  const entries = [];
  for (const [sub, contentType] of SAMPLE_DIRS) {
    for (const name of readdirSync(path.join(repoRoot, sub)).sort()) {
      const file = path.join(repoRoot, sub, name);
      const bytes = readFileSync(file);
      const meta = await sharp(bytes).metadata();
      entries.push({ name, file, contentType, size: bytes.length, width: meta.width, height: meta.height, bytes });
    }
  }
  for (let i = 0; i < generated; i++) {
    const { bytes, width, height } = await noiseJpeg(0x9e3779b9 + i * 7919, ASPECTS[i % ASPECTS.length]);
    const name = `noise-${i + 1}.jpg`;
    const file = path.join(dir, name);
    await writeFile(file, bytes);
    entries.push({ name, file, contentType: 'image/jpeg', size: bytes.length, width, height, bytes, large: true });
  }
  const manifest = entries.map(({ bytes, ...entry }) => ({
    ...entry,
    sha256: createHash('sha256').update(bytes).digest('hex'),
  }));
  return { mixed: manifest, large: manifest.filter((e) => e.large) };
}
