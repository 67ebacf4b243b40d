// CPU cost of each step SnapStore adds to an upload, one upload at a time, over the bench's
// mixed file set and over the ~1 MB files alone. Process CPU (every thread: libvips and the
// libuv pool included) per call, so it holds up even when other work shares the machine.
//   npm run build && node bench/upload-costs.mjs [--iterations=N] [--dist=OTHER/dist]
import { createHash } from 'node:crypto';
import { mkdtemp, rm } from 'node:fs/promises';
import os from 'node:os';
import path from 'node:path';
import { fileURLToPath } from 'node:url';
import sharp from 'sharp';
import { prepareFiles } from './lib/files.mjs';
import { fixed, table } from './lib/stats.mjs';

const ROOT = path.resolve(path.dirname(fileURLToPath(import.meta.url)), '..');
const DIST = path.resolve(process.argv.find((a) => a.startsWith('--dist='))?.slice(7) ?? path.join(ROOT, 'dist'));
const inspector = await import(path.join(DIST, 'domain/image-inspector.js'));
const { inspectImage } = inspector;
const { LocalBlobStore } = await import(path.join(DIST, 'storage/local-blob-store.js'));
const { readFileSync, existsSync } = await import('node:fs');
// STRIP_METADATA / THUMBNAILS work, in builds that have it
const processing = existsSync(path.join(DIST, 'domain/image-processing.js'))
  ? await import(path.join(DIST, 'domain/image-processing.js'))
  : {};

const iterations = Number(process.argv.find((a) => a.startsWith('--iterations='))?.slice(13) ?? 20);
const MAX_PIXELS = 40_000_000;

const tmp = await mkdtemp(path.join(os.tmpdir(), 'snapstore-costs-'));
const files = await prepareFiles(ROOT, tmp);
const store = await LocalBlobStore.open(path.join(tmp, 'uploads'));
let keyNumber = 0;

// Each step gets the bytes and what inspectImage said about them (computed outside the clock).
// The check as it was until 2026-12-04 (header from libvips, a 32 px decode of the whole file),
// kept here so that every run shows the two side by side.
const decodeCheckBefore = (bytes) =>
  sharp(bytes, { limitInputPixels: false, failOn: 'error', ignoreIcc: true })
    .resize(32, 32, { fit: 'inside', kernel: 'nearest' })
    .raw()
    .toBuffer();
const inspectBefore = async (bytes) => {
  await sharp(bytes, { limitInputPixels: false }).metadata();
  await decodeCheckBefore(bytes);
};

const steps = {
  'header (sharp metadata)': (bytes) => sharp(bytes, { limitInputPixels: false }).metadata(),
  'header (app: readImageHeader)': (bytes) => inspector.readImageHeader(bytes, MAX_PIXELS),
  'decode check (app)': inspector.assertDecodable
    ? (bytes, info) => inspector.assertDecodable(bytes, info)
    : (bytes) =>
        sharp(bytes, { limitInputPixels: MAX_PIXELS, failOn: 'error' })
          .resize(32, 32, { fit: 'inside' })
          .raw()
          .toBuffer(),
  'decode check, before 2026-12-04': (bytes) => decodeCheckBefore(bytes),
  'inspectImage (header + decode)': (bytes) => inspectImage(bytes, MAX_PIXELS),
  ...(processing.withoutMetadata && {
    'withoutMetadata (STRIP_METADATA)': (bytes, info) =>
      processing.withoutMetadata(bytes, info, { maxPixels: MAX_PIXELS, maxBytes: 1_048_576 }),
  }),
  ...(processing.thumbnailOf && {
    'thumbnailOf (THUMBNAILS)': (bytes, info) => processing.thumbnailOf(bytes, info.contentType, MAX_PIXELS),
  }),
  'sha256 (createHash, sync)': async (bytes) => createHash('sha256').update(bytes).digest('hex'),
  'local copy (LocalBlobStore.put)': (bytes) => store.put(`k${keyNumber++}.jpg`, bytes),
};

async function cpuPerCall(set, step) {
  const inputs = [];
  for (const f of set) {
    const bytes = readFileSync(f.file);
    inputs.push([bytes, await inspectImage(bytes, MAX_PIXELS)]);
  }
  for (const [b, info] of inputs) await step(b, info); // warm-up
  const before = process.cpuUsage();
  const began = performance.now();
  for (let i = 0; i < iterations; i++) for (const [b, info] of inputs) await step(b, info);
  const cpu = process.cpuUsage(before);
  const calls = iterations * inputs.length;
  return { cpuMs: (cpu.user + cpu.system) / 1000 / calls, wallMs: (performance.now() - began) / calls };
}

const rows = [['step', 'mixed CPU ms', 'mixed wall ms', '~1 MB CPU ms', '~1 MB wall ms']];
const results = {};
for (const [name, step] of Object.entries(steps)) {
  const mixed = await cpuPerCall(files.mixed, step);
  const large = await cpuPerCall(files.large, step);
  results[name] = { mixed, large };
  rows.push([name, fixed(mixed.cpuMs, 2), fixed(mixed.wallMs, 2), fixed(large.cpuMs, 2), fixed(large.wallMs, 2)]);
}
console.log(
  `${DIST}: per call, one at a time, ${iterations} passes over ${files.mixed.length} mixed files / ${files.large.length} ~1 MB files; sharp concurrency ${sharp.concurrency()}`,
);
console.log(table(rows));

// Per file, the check as it was and as it is, measured in alternating turns so that drift in
// the machine's speed hits both alike.
const perFile = [['file', 'bytes', 'pixels', 'check before ms', 'check now ms', 'now/before']];
const turns = 5;
for (const f of files.mixed) {
  const bytes = readFileSync(f.file);
  const cpu = { before: 0, now: 0 };
  const variants = { before: () => inspectBefore(bytes), now: () => inspectImage(bytes, MAX_PIXELS) };
  for (const run of Object.values(variants)) await run(); // warm-up
  for (let turn = 0; turn < turns; turn++) {
    for (const [name, run] of Object.entries(variants)) {
      const started = process.cpuUsage();
      for (let i = 0; i < Math.ceil(iterations / turns); i++) await run();
      const used = process.cpuUsage(started);
      cpu[name] += used.user + used.system;
    }
  }
  const calls = turns * Math.ceil(iterations / turns) * 1000;
  perFile.push([
    f.name,
    f.size,
    `${f.width}x${f.height}`,
    fixed(cpu.before / calls, 2),
    fixed(cpu.now / calls, 2),
    fixed(cpu.now / cpu.before, 2),
  ]);
}
const mean = (column) => perFile.slice(1).reduce((sum, row) => sum + Number(row[column]), 0) / (perFile.length - 1);
perFile.push(['mean', '', '', fixed(mean(3), 2), fixed(mean(4), 2), fixed(mean(4) / mean(3), 2)]);
console.log(`\n${table(perFile)}`);
await rm(tmp, { recursive: true, force: true });
