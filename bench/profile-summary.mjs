// Summarises a V8 .cpuprofile (node --cpu-prof): top functions by self time, and self time
// per package / area. Usage: node bench/profile-summary.mjs FILE.cpuprofile [--top N]
// Only the main JS thread is profiled: libvips (sharp) and libuv thread-pool work (hashing,
// file writes, zlib) run on other threads and show up here only as the time spent waiting.
import { readFileSync } from 'node:fs';
import path from 'node:path';
import { fileURLToPath } from 'node:url';

function area(url, functionName) {
  if (!url) return functionName.startsWith('(') ? functionName : '(native / builtin)';
  const nm = url.lastIndexOf('node_modules/');
  if (nm >= 0) {
    const rest = url.slice(nm + 'node_modules/'.length).split('/');
    return rest[0].startsWith('@') ? `${rest[0]}/${rest[1]}` : rest[0];
  }
  if (url.startsWith('node:internal/')) return `node:${url.slice(14).split('/').slice(0, 2).join('/')}`;
  if (url.startsWith('node:')) return url;
  const dist = url.indexOf('/dist/');
  if (dist >= 0) return `app: ${url.slice(dist + 1)}`;
  const bench = url.indexOf('/bench/');
  if (bench >= 0) return `bench: ${url.slice(bench + 1)}`;
  return url;
}

/**
 * @param {{ top?: number, windows?: Array<{ startUs: number, endUs: number }>, uploads?: number }} options
 *   `windows`: only samples taken between these CLOCK_MONOTONIC microseconds (run.mjs records the
 *   measured windows this way); `uploads`: also give each row in ms per upload.
 * @returns {{ totalMs: number, functions: object[], areas: object[] }}
 */
export function summariseProfile(file, { top = 25, windows, uploads } = {}) {
  const profile = JSON.parse(readFileSync(file, 'utf8'));
  const byId = new Map(profile.nodes.map((n) => [n.id, n]));
  const selfUs = new Map();
  let at = profile.startTime;
  profile.samples.forEach((id, i) => {
    const delta = profile.timeDeltas[i] ?? 0;
    at += delta;
    if (windows && !windows.some((w) => at >= w.startUs && at <= w.endUs)) return;
    selfUs.set(id, (selfUs.get(id) ?? 0) + delta);
  });
  const totalUs = [...selfUs.values()].reduce((a, b) => a + b, 0);

  const fn = new Map();
  const areas = new Map();
  for (const [id, us] of selfUs) {
    const { callFrame } = byId.get(id);
    const name = callFrame.functionName || '(anonymous)';
    const where = callFrame.url ? `${area(callFrame.url, name)}:${callFrame.lineNumber + 1}` : '';
    const key = `${name} ${where}`;
    fn.set(key, (fn.get(key) ?? 0) + us);
    const a = area(callFrame.url, name);
    areas.set(a, (areas.get(a) ?? 0) + us);
  }
  const rows = (map) =>
    [...map.entries()]
      .sort((a, b) => b[1] - a[1])
      .slice(0, top)
      .map(([name, us]) => ({
        name,
        ms: us / 1000,
        percent: (100 * us) / totalUs,
        ...(uploads ? { msPerUpload: us / 1000 / uploads } : {}),
      }));
  return { totalMs: totalUs / 1000, uploads, functions: rows(fn), areas: rows(areas) };
}

export function formatSummary(file, summary) {
  const line = (r) =>
    `${r.ms.toFixed(0).padStart(8)} ms ${r.percent.toFixed(1).padStart(5)} %` +
    `${r.msPerUpload === undefined ? '' : ` ${r.msPerUpload.toFixed(3).padStart(7)} ms/upload`}  ${r.name}`;
  return [
    `${path.basename(file)}: ${summary.totalMs.toFixed(0)} ms sampled on the main thread` +
      (summary.uploads ? ` over ${summary.uploads} uploads (measured window only)` : ''),
    'top self time by function:',
    ...summary.functions.map(line),
    'self time by package / area:',
    ...summary.areas.map(line),
  ].join('\n');
}

if (process.argv[1] === fileURLToPath(import.meta.url)) {
  const file = process.argv[2];
  if (!file) {
    console.error('usage: node bench/profile-summary.mjs FILE.cpuprofile [--top N]');
    process.exit(2);
  }
  const topIndex = process.argv.indexOf('--top');
  const top = topIndex > 0 ? Number(process.argv[topIndex + 1]) : 25;
  // With bench/results/latest.json from the same run, crop to the phase's measured window.
  const phaseName = path.basename(file, '.cpuprofile');
  let phase;
  try {
    const latest = JSON.parse(readFileSync(path.join(path.dirname(file), '..', 'latest.json'), 'utf8'));
    phase = latest.phases.find((p) => p.name === phaseName && p.windows);
  } catch {
    phase = undefined;
  }
  const options = phase ? { top, windows: phase.windows, uploads: phase.uploads } : { top };
  console.log(formatSummary(file, summariseProfile(file, options)));
}
