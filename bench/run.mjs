#!/usr/bin/env node
// Issue 5's benchmark: SnapStore's upload path against the floor (PutObject + INSERT with no
// HTTP layer), the tutorial handler and the tutorial handler with the pixel-decode check, plus
// the gallery on a million rows. See bench/README.md.
//
//   npm run bench                      # full run, ~5-6 minutes
//   npm run bench -- --quick           # smoke run, ~1 minute
//   BENCH_CPU_PROF=1 npm run bench     # also writes .cpuprofile files of each server
//
// Options: --quick, --duration=S, --warmup=S, --concurrency=1,16,64, --setups=a,b,c,
//   --rows=N, --gallery-requests=N, --no-uploads, --no-gallery, --no-large, --keep (temp files)
import { fork, spawn } from 'node:child_process';
import { randomBytes } from 'node:crypto';
import { createWriteStream, existsSync, readFileSync } from 'node:fs';
import { mkdir, mkdtemp, rm, writeFile } from 'node:fs/promises';
import net from 'node:net';
import os from 'node:os';
import path from 'node:path';
import { fileURLToPath } from 'node:url';
import { CreateBucketCommand, S3Client } from '@aws-sdk/client-s3';
import mysql from 'mysql2/promise';
import { prepareFiles } from './lib/files.mjs';
import { seedImages, timeGallery } from './lib/gallery.mjs';
import { ProcessWatcher, cpuDelta, pidsByName, processMemory, processTree } from './lib/proc.mjs';
import { fixed, mib, ratio, summarise, table } from './lib/stats.mjs';
import { formatSummary, summariseProfile } from './profile-summary.mjs';

// The SDK's "node 22 from 2027" notice, once per process, is noise here (README covers it).
process.env.AWS_SDK_JS_NODE_VERSION_SUPPORT_WARNING_DISABLED = 'true';

const BENCH = path.dirname(fileURLToPath(import.meta.url));
const ROOT = path.resolve(BENCH, '..');
const RESULTS = path.join(BENCH, 'results');

// ---------------------------------------------------------------------------------------------
// options

const argv = process.argv.slice(2);
const flag = (name) => argv.includes(`--${name}`);
const option = (name, fallback) => {
  const hit = argv.find((a) => a.startsWith(`--${name}=`));
  return hit === undefined ? fallback : hit.slice(name.length + 3);
};
const quick = flag('quick');
const opts = {
  quick,
  // measured seconds per set-up and group, split over `rounds` slices taken in turns
  durationMs: Number(option('duration', quick ? 2.5 : 10)) * 1000,
  rounds: Number(option('rounds', quick ? 1 : 3)),
  // before the first slice of a server / before each later one
  warmupMs: Number(option('warmup', 2)) * 1000,
  sliceWarmupMs: Number(option('slice-warmup', 1)) * 1000,
  // empty (`--concurrency=`): no mixed groups, only the 1 MB one
  concurrency: option('concurrency', quick ? '16,64' : '1,16,64')
    .split(',')
    .filter(Boolean)
    .map(Number),
  largeConcurrency: 64,
  rows: Number(option('rows', quick ? 100_000 : 1_000_000)),
  galleryRequests: Number(option('gallery-requests', quick ? 50 : 200)),
  uploads: !flag('no-uploads'),
  gallery: !flag('no-gallery'),
  large: !flag('no-large'),
  keep: flag('keep'),
  cpuProfile: process.env.BENCH_CPU_PROF === '1',
  mysqlUrl: (process.env.MYSQL_URL ?? 'mysql://root@127.0.0.1:3306').replace(/\/$/, ''),
};

// SnapStore's optional per-upload work. The variables are new; older builds ignore them.
const distConfig = readIfExists(path.join(ROOT, 'dist/config/config.js'));
const features = {
  STRIP_METADATA: distConfig.includes('STRIP_METADATA'),
  THUMBNAILS: distConfig.includes('THUMBNAILS'),
};
const hasOptionalWork = features.STRIP_METADATA || features.THUMBNAILS;
// SnapStore runs with the environment its systemd unit gives it (NODE_ENV, MALLOC_ARENA_MAX),
// as in production; the Dockerfile sets the same, and test/deploy keeps the two in step.
const SERVICE_ENV = Object.fromEntries(
  [...readFileSync(path.join(ROOT, 'deploy/snapstore.service'), 'utf8').matchAll(/^Environment=(\w+)=(.*)$/gm)].map(
    ([, name, value]) => [name, value],
  ),
);
const OFF = { ...SERVICE_ENV, STRIP_METADATA: 'false', THUMBNAILS: 'false' };
const ON = { ...SERVICE_ENV, STRIP_METADATA: 'true', THUMBNAILS: 'true' };

const SETUPS = {
  floor: { label: 'limit: PutObject+INSERT, no HTTP', kind: 'direct' },
  tutorial: { label: 'tutorial: Express+multer, no checks', kind: 'server', script: 'bench/tutorial-server.mjs' },
  'tutorial+check': {
    label: 'tutorial + the pixel decode check',
    kind: 'server',
    script: 'bench/tutorial-server.mjs',
    env: { TUTORIAL_CHECK_PIXELS: '1' },
  },
  snapstore: { label: 'SnapStore, strip+thumbs off', kind: 'server', script: 'dist/main.js', env: OFF },
  'snapstore-on': { label: 'SnapStore, strip+thumbs on', kind: 'server', script: 'dist/main.js', env: ON },
  'snapstore-nocopy': {
    label: 'SnapStore, off, KEEP_LOCAL_COPY=false',
    kind: 'server',
    script: 'dist/main.js',
    env: { ...OFF, KEEP_LOCAL_COPY: 'false' },
  },
  'snapstore-cluster': {
    label: 'SnapStore, off, cluster x2',
    kind: 'server',
    script: 'bench/cluster-main.mjs',
    env: { ...OFF, BENCH_WORKERS: '2' },
  },
};
// --candidate=PATH/main.js[?NAME=value&NAME=value][,PATH2/main.js...]: other builds of SnapStore
// (patched copies of dist/, say) as set-ups candidate1, candidate2..., with the environment of
// `snapstore` plus the variables given after `?`.
const candidates = (option('candidate', '') || '').split(',').filter(Boolean);
candidates.forEach((spec, i) => {
  const [script, query = ''] = spec.split('?');
  const extra = Object.fromEntries(new URLSearchParams(query));
  SETUPS[`candidate${i + 1}`] = {
    label: `candidate ${spec}`,
    kind: 'server',
    script: path.resolve(script),
    env: { ...OFF, ...extra },
  };
});
const defaultSetups = [
  'floor',
  'tutorial',
  'tutorial+check',
  'snapstore',
  ...(hasOptionalWork ? ['snapstore-on'] : []),
  ...candidates.map((_, i) => `candidate${i + 1}`),
];
const setups = option('setups', defaultSetups.join(',')).split(',');
for (const s of setups) if (!SETUPS[s]) throw new Error(`unknown set-up ${s}; known: ${Object.keys(SETUPS)}`);

function readIfExists(file) {
  try {
    return readFileSync(file, 'utf8');
  } catch {
    return '';
  }
}

// ---------------------------------------------------------------------------------------------
// processes

const children = new Set();
function track(child) {
  children.add(child);
  child.once('exit', () => children.delete(child));
  return child;
}
process.on('exit', () => {
  for (const child of children) child.kill('SIGKILL');
});

function freePort() {
  return new Promise((resolve, reject) => {
    const server = net.createServer();
    server.once('error', reject);
    server.listen(0, '127.0.0.1', () => {
      const { port } = server.address();
      server.close(() => resolve(port));
    });
  });
}

const sleep = (ms) => new Promise((resolve) => setTimeout(resolve, ms));

function waitForExit(child, timeoutMs) {
  if (child.exitCode !== null || child.signalCode !== null) return Promise.resolve();
  return new Promise((resolve) => {
    const timer = setTimeout(() => {
      child.kill('SIGKILL');
    }, timeoutMs);
    child.once('exit', () => {
      clearTimeout(timer);
      resolve();
    });
  });
}

async function waitForHttp(url, child, timeoutMs = 30_000) {
  const deadline = Date.now() + timeoutMs;
  let last;
  while (Date.now() < deadline) {
    if (child.exitCode !== null) throw new Error(`${url}: the server exited with ${child.exitCode}`);
    try {
      const response = await fetch(url);
      if (response.ok) return;
      last = `HTTP ${response.status}: ${(await response.text()).slice(0, 200)}`;
    } catch (error) {
      last = error.cause?.code ?? error.message;
    }
    await sleep(50);
  }
  throw new Error(`${url} did not answer 200 within ${timeoutMs} ms (${last})`);
}

async function startS3(directory) {
  const child = track(fork(path.join(BENCH, 's3-server.mjs'), [directory], { stdio: 'inherit' }));
  const port = await new Promise((resolve, reject) => {
    child.once('message', (m) => resolve(m.port));
    child.once('exit', (code) => reject(new Error(`s3rver exited with ${code}`)));
  });
  return { child, endpoint: `http://127.0.0.1:${port}` };
}

/** Starts SnapStore or the tutorial with the bench environment; resolves once it answers. */
async function startServer(setup, { env, name, logDir }) {
  const port = await freePort();
  const nodeArgs = [];
  if (opts.cpuProfile) {
    nodeArgs.push(
      '--cpu-prof',
      `--cpu-prof-dir=${path.join(RESULTS, 'profiles')}`,
      `--cpu-prof-name=${name}.cpuprofile`,
    );
  }
  const log = createWriteStream(path.join(logDir, `${name}.log`));
  const child = track(
    spawn(process.execPath, [...nodeArgs, path.resolve(ROOT, setup.script)], {
      cwd: env.UPLOAD_DIR, // no stray .env from the work tree
      env: { ...env, ...setup.env, PORT: String(port) },
      stdio: ['ignore', 'pipe', 'pipe'],
    }),
  );
  child.stdout.pipe(log);
  child.stderr.pipe(log);
  const origin = `http://127.0.0.1:${port}`;
  await waitForHttp(`${origin}${setup.script.includes('tutorial') ? '/healthz' : '/readyz'}`, child);
  return { child, origin, log };
}

async function stopServer(server) {
  server.child.kill('SIGTERM');
  await waitForExit(server.child, 30_000);
  server.log.end();
}

// ---------------------------------------------------------------------------------------------
// measured phases
//
// Other work on the machine comes and goes, so the set-ups of one (files, concurrency) group are
// measured in turns: every server of the group is started (idle servers cost no CPU), then each
// round gives each set-up one slice of load, rotating the order, and the slices are added up.
// Ratios between set-ups are also computed per round, so drift shows up as their spread.

async function runSlice({ setupName, state, concurrency, files, context, durationMs }) {
  const setup = SETUPS[setupName];
  const { server } = state;
  const load = track(fork(path.join(BENCH, 'load.mjs'), [], { stdio: 'inherit', env: context.baseEnv }));
  const watcher = new ProcessWatcher({
    server: () => (server ? processTree(server.child.pid) : [load.pid]),
    s3rver: [context.s3Pid],
    mysqld: context.mysqldPids,
    loadgen: server ? [load.pid] : [],
  });
  const marks = {};
  const result = await new Promise((resolve, reject) => {
    load.on('message', (m) => {
      if (m.type === 'ready') {
        watcher.startPolling();
        load.send('go');
      } else if (m.type === 'window-start') {
        marks.start = watcher.snapshot();
        marks.startUs = Number(process.hrtime.bigint() / 1000n); // the clock of --cpu-prof's timestamps
      } else if (m.type === 'window-end') {
        marks.end = watcher.snapshot();
        marks.endUs = Number(process.hrtime.bigint() / 1000n);
      } else if (m.type === 'result') resolve(m.result);
    });
    load.once('exit', (code) => code !== 0 && reject(new Error(`load for ${setupName} exited with ${code}`)));
    load.send({
      mode: setup.kind === 'direct' ? 'direct' : 'http',
      url: server?.origin,
      concurrency,
      warmupMs: state.slicesRun++ ? opts.sliceWarmupMs : opts.warmupMs,
      durationMs,
      files,
      direct: {
        endpoint: context.endpoint,
        bucket: state.bucket,
        region: 'us-east-1',
        databaseUrl: context.databaseUrl,
        poolSize: 10,
      },
    });
  });
  watcher.stopPolling();
  const hwm = watcher.memory().hwm; // the floor's own process; a server's is read when its group ends
  await waitForExit(load, 10_000);
  return {
    ...result,
    window: { startUs: marks.startUs, endUs: marks.endUs },
    cpu: cpuDelta(marks.start, marks.end),
    peakRssPolled: watcher.peakRss,
    hwm,
  };
}

/** Adds up the slices of one set-up into the figures reported for it. */
function aggregate({ setupName, mix, concurrency, state, slices }) {
  const uploads = slices.reduce((a, s) => a + s.uploads, 0);
  const seconds = slices.reduce((a, s) => a + s.seconds, 0);
  const latencies = slices.flatMap((s) => s.latencies);
  const sumGroups = (key) => {
    const total = {};
    for (const slice of slices) {
      for (const [name, value] of Object.entries(slice.cpu[key])) total[name] = (total[name] ?? 0) + value;
    }
    return total;
  };
  const cpuSeconds = sumGroups('groups');
  const threads = sumGroups('threads');
  const perUpload = (s) => (uploads ? (1000 * s) / uploads : NaN);
  const cpuMsPerUpload = Object.fromEntries(Object.entries(cpuSeconds).map(([g, s]) => [g, perUpload(s)]));
  const totalCpuMs = Object.values(cpuMsPerUpload).reduce((a, b) => a + b, 0);
  const busy = slices.reduce((a, s) => a + s.cpu.machineBusyCores * s.cpu.seconds, 0) / seconds;
  const errorKinds = {};
  for (const slice of slices) {
    for (const [kind, e] of Object.entries(slice.errorKinds)) {
      errorKinds[kind] = { count: (errorKinds[kind]?.count ?? 0) + e.count, detail: e.detail };
    }
  }
  const peakRssBytes = Math.max(state.hwm ?? 0, ...slices.map((s) => Math.max(s.peakRssPolled, s.hwm)));
  return {
    name: `${setupName}-${mix}-c${concurrency}`,
    setup: setupName,
    label: SETUPS[setupName].label,
    mix,
    concurrency,
    seconds,
    uploads,
    uploadsPerSecond: uploads / seconds,
    megabytesPerSecond: slices.reduce((a, s) => a + s.megabytesPerSecond * s.seconds, 0) / seconds,
    meanFileBytes: slices.reduce((a, s) => a + s.meanFileBytes * s.uploads, 0) / (uploads || 1),
    latencyMs: summarise(latencies),
    errors: slices.reduce((a, s) => a + s.errorsTotal, 0),
    errorKinds,
    perRound: slices.map((s) => ({ uploadsPerSecond: s.uploadsPerSecond, p50: s.latencyMs.p50, p99: s.latencyMs.p99 })),
    windows: slices.map((s) => s.window),
    idleRssBytes: state.idleRss,
    peakRssBytes,
    cpuSeconds,
    cpuMsPerUpload,
    totalCpuMsPerUpload: totalCpuMs,
    // What the machine could do if these processes had every core to themselves (CPU-bound).
    cpuBoundCapacity: (os.availableParallelism() * 1000) / totalCpuMs,
    serverThreadsMsPerUpload: Object.fromEntries(
      Object.entries(threads)
        .filter(([, s]) => s > 0)
        .sort((a, b) => b[1] - a[1])
        .map(([name, s]) => [name, +perUpload(s).toFixed(3)]),
    ),
    machineBusyCores: busy,
    otherBusyCores: busy - Object.values(cpuSeconds).reduce((a, b) => a + b, 0) / seconds,
  };
}

async function runGroup({ setupNames, mix, concurrency, files, context }) {
  const states = {};
  try {
    return await measureGroup({ setupNames, mix, concurrency, files, context, states });
  } finally {
    // on failure, servers of the group that did start are still up
    for (const { server } of Object.values(states)) {
      if (server && server.child.exitCode === null && server.child.signalCode === null) await stopServer(server);
    }
  }
}

async function measureGroup({ setupNames, mix, concurrency, files, context, states }) {
  for (const setupName of setupNames) {
    const setup = SETUPS[setupName];
    const name = `${setupName}-${mix}-c${concurrency}`;
    const bucket = `bench-${name}-${randomBytes(3).toString('hex')}`.slice(0, 63);
    await context.s3.send(new CreateBucketCommand({ Bucket: bucket }));
    const uploadDir = path.join(context.tmp, `uploads-${name}`);
    await mkdir(uploadDir, { recursive: true });
    const env = { ...context.baseEnv, S3_BUCKET: bucket, UPLOAD_DIR: uploadDir };
    const server =
      setup.kind === 'server' ? await startServer(setup, { env, name, logDir: context.logDir }) : undefined;
    states[setupName] = { bucket, uploadDir, server, slicesRun: 0 };
  }
  await sleep(500);
  for (const state of Object.values(states)) {
    if (state.server) state.idleRss = sumMemory(processTree(state.server.child.pid)).rss;
  }
  const slices = Object.fromEntries(setupNames.map((n) => [n, []]));
  const durationMs = opts.durationMs / opts.rounds;
  for (let round = 0; round < opts.rounds; round++) {
    const order = setupNames.map((_, i) => setupNames[(i + round) % setupNames.length]);
    for (const setupName of order) {
      const slice = await runSlice({ setupName, state: states[setupName], concurrency, files, context, durationMs });
      slice.round = round;
      slices[setupName].push(slice);
    }
  }
  const results = [];
  for (const setupName of setupNames) {
    const state = states[setupName];
    if (state.server) {
      state.hwm = processTree(state.server.child.pid).reduce((a, pid) => a + (processMemory(pid)?.hwm ?? 0), 0);
      await stopServer(state.server);
    }
    if (!opts.keep) {
      await rm(state.uploadDir, { recursive: true, force: true });
      await rm(path.join(context.s3Dir, state.bucket), { recursive: true, force: true }); // s3rver keeps no state in memory
    }
    const sorted = [...slices[setupName]].sort((a, b) => a.round - b.round);
    results.push(aggregate({ setupName, mix, concurrency, state, slices: sorted }));
  }
  return results;
}

// ---------------------------------------------------------------------------------------------
// report

function sumMemory(pids) {
  return pids.reduce((sum, pid) => ({ rss: sum.rss + (processMemory(pid)?.rss ?? 0) }), { rss: 0 });
}

function uploadTable(phases) {
  const rows = [
    [
      'set-up',
      'files',
      'conc',
      'uploads/s',
      'MB/s',
      'p50 ms',
      'p95 ms',
      'p99 ms',
      'errors',
      'idle RSS MiB',
      'peak RSS MiB',
      'CPU ms/upl',
      's3rver ms/upl',
      'mysqld ms/upl',
      'loadgen ms/upl',
      'cap/s',
      'busy cores',
      'other cores',
    ],
  ];
  for (const p of phases) {
    rows.push([
      p.setup,
      p.mix,
      p.concurrency,
      fixed(p.uploadsPerSecond, 1),
      fixed(p.megabytesPerSecond, 1),
      fixed(p.latencyMs.p50, 1),
      fixed(p.latencyMs.p95, 1),
      fixed(p.latencyMs.p99, 1),
      p.errors,
      p.idleRssBytes === undefined ? '-' : mib(p.idleRssBytes),
      mib(p.peakRssBytes),
      fixed(p.cpuMsPerUpload.server, 2),
      fixed(p.cpuMsPerUpload.s3rver, 2),
      fixed(p.cpuMsPerUpload.mysqld, 2),
      p.setup === 'floor' ? '-' : fixed(p.cpuMsPerUpload.loadgen, 2),
      fixed(p.cpuBoundCapacity, 0),
      fixed(p.machineBusyCores, 2),
      fixed(p.otherBusyCores, 2),
    ]);
  }
  return table(rows, { alignLeft: 2 });
}

function computeRatios(phases) {
  const find = (setup, mix, c) => phases.find((p) => p.setup === setup && p.mix === mix && p.concurrency === c);
  const ratios = [];
  for (const p of phases) {
    if (!p.setup.startsWith('snapstore') && !p.setup.startsWith('candidate')) continue;
    const floor = find('floor', p.mix, p.concurrency);
    const tutorial = find('tutorial', p.mix, p.concurrency);
    const checkedTutorial = find('tutorial+check', p.mix, p.concurrency);
    const perRound = (other) =>
      other ? p.perRound.map((r, i) => ratio(r.uploadsPerSecond, other.perRound[i]?.uploadsPerSecond)) : [];
    const spread = (values) => (values.length > 1 ? [Math.min(...values), Math.max(...values)] : undefined);
    ratios.push({
      setup: p.setup,
      mix: p.mix,
      concurrency: p.concurrency,
      throughputVsLimit: ratio(p.uploadsPerSecond, floor?.uploadsPerSecond),
      throughputVsLimitRounds: spread(perRound(floor)),
      throughputVsTutorial: ratio(p.uploadsPerSecond, tutorial?.uploadsPerSecond),
      throughputVsTutorialRounds: spread(perRound(tutorial)),
      throughputVsCheckedTutorial: checkedTutorial && ratio(p.uploadsPerSecond, checkedTutorial.uploadsPerSecond),
      throughputVsCheckedTutorialRounds: spread(perRound(checkedTutorial)),
      capacityVsLimit: ratio(p.cpuBoundCapacity, floor?.cpuBoundCapacity),
      capacityVsTutorial: ratio(p.cpuBoundCapacity, tutorial?.cpuBoundCapacity),
      rssVsLimit: ratio(p.peakRssBytes, floor?.peakRssBytes),
      rssVsTutorial: ratio(p.peakRssBytes, tutorial?.peakRssBytes),
      cpuVsTutorial: ratio(p.cpuMsPerUpload.server, tutorial?.cpuMsPerUpload.server),
      p99OverP50: p.latencyMs.p99 / p.latencyMs.p50,
    });
  }
  return ratios;
}

function ratioTable(ratios) {
  const withChecked = ratios.some((r) => r.throughputVsCheckedTutorial !== undefined);
  const rows = [
    [
      'set-up',
      'files',
      'conc',
      'thr/limit',
      'thr/tutorial',
      ...(withChecked ? ['thr/tutorial+check'] : []),
      'cap/limit',
      'cap/tutorial',
      'RSS/limit',
      'RSS/tutorial',
      'CPU/tutorial',
      'p99/p50',
    ],
  ];
  const withSpread = (value, range) =>
    `${fixed(value, 2)}${range ? ` [${fixed(range[0], 2)}-${fixed(range[1], 2)}]` : ''}`;
  for (const r of ratios) {
    rows.push([
      r.setup,
      r.mix,
      r.concurrency,
      withSpread(r.throughputVsLimit, r.throughputVsLimitRounds),
      withSpread(r.throughputVsTutorial, r.throughputVsTutorialRounds),
      ...(withChecked ? [withSpread(r.throughputVsCheckedTutorial, r.throughputVsCheckedTutorialRounds)] : []),
      fixed(r.capacityVsLimit, 2),
      fixed(r.capacityVsTutorial, 2),
      fixed(r.rssVsLimit, 2),
      fixed(r.rssVsTutorial, 2),
      fixed(r.cpuVsTutorial, 2),
      fixed(r.p99OverP50, 2),
    ]);
  }
  return table(rows, { alignLeft: 2 });
}

function evaluateTargets(phases, ratios, gallery) {
  const targets = [];
  const r = (mix, c) => ratios.find((x) => x.setup === 'snapstore' && x.mix === mix && x.concurrency === c);
  for (const c of [16, 64]) {
    const x = r('mixed', c);
    if (!x) continue;
    targets.push({
      target: `throughput c=${c} >= 1.0 x tutorial`,
      value: x.throughputVsTutorial,
      pass: x.throughputVsTutorial >= 1.0,
    });
    targets.push({
      target: `throughput c=${c} >= 0.7 x limit`,
      value: x.throughputVsLimit,
      pass: x.throughputVsLimit >= 0.7,
    });
  }
  const large = r('1mb', 64);
  if (large) {
    targets.push({
      target: 'peak RSS c=64, ~1 MB files <= 0.6 x tutorial',
      value: large.rssVsTutorial,
      pass: large.rssVsTutorial <= 0.6,
    });
  }
  const c16 = r('mixed', 16);
  if (c16) targets.push({ target: 'p99 <= 3 x p50 at c=16', value: c16.p99OverP50, pass: c16.p99OverP50 <= 3 });
  const snap = phases.filter((p) => p.setup === 'snapstore');
  if (snap.length) {
    const errors = snap.reduce((a, p) => a + p.errors, 0);
    targets.push({ target: 'zero errors (snapstore, every phase)', value: errors, pass: errors === 0 });
  }
  if (gallery?.timings) {
    for (const kind of ['JSON', 'HTML']) {
      const value = gallery.timings[`deep page ${kind}`].p50 / gallery.timings[`first page ${kind}`].p50;
      targets.push({ target: `gallery ${kind}: deep page p50 <= 1.2 x first page`, value, pass: value <= 1.2 });
    }
  }
  return targets;
}

// ---------------------------------------------------------------------------------------------
// main

async function main() {
  const began = Date.now();
  if (!existsSync(path.join(ROOT, 'dist/main.js')))
    throw new Error('dist/main.js is missing: run `npm run build` first');
  await mkdir(RESULTS, { recursive: true });
  const logDir = path.join(RESULTS, 'logs');
  await rm(logDir, { recursive: true, force: true });
  await mkdir(logDir, { recursive: true });
  if (opts.cpuProfile) {
    await rm(path.join(RESULTS, 'profiles'), { recursive: true, force: true });
    await mkdir(path.join(RESULTS, 'profiles'), { recursive: true });
  }
  const tmp = await mkdtemp(path.join(os.tmpdir(), 'snapstore-bench-'));
  const s3Dir = path.join(tmp, 's3rver');
  await mkdir(s3Dir);

  const dbName = `snapstore_bench_${randomBytes(4).toString('hex')}`;
  const admin = await mysql.createConnection({ uri: opts.mysqlUrl });
  await admin.query(`CREATE DATABASE \`${dbName}\` CHARACTER SET utf8mb4 COLLATE utf8mb4_unicode_ci`);
  const databaseUrl = `${opts.mysqlUrl}/${dbName}`;
  let s3Server;
  const report = {
    startedAt: new Date(began).toISOString(),
    command: `node bench/run.mjs ${argv.join(' ')}`.trim(),
    machine: {
      nproc: os.availableParallelism(),
      cpu: os.cpus()[0]?.model,
      memoryGiB: +(os.totalmem() / 2 ** 30).toFixed(1),
      node: process.version,
      mysql: (await admin.query('SELECT VERSION() AS v'))[0][0].v,
    },
    options: { ...opts, setups, features },
    phases: [],
  };
  console.log(
    `SnapStore bench: ${report.machine.nproc} cores, node ${process.version}, MariaDB/MySQL ${report.machine.mysql}; ` +
      `set-ups ${setups.join(', ')}; STRIP_METADATA ${features.STRIP_METADATA ? 'known' : 'unknown'} to this build, ` +
      `THUMBNAILS ${features.THUMBNAILS ? 'known' : 'unknown'}`,
  );

  try {
    s3Server = await startS3(s3Dir);
    const s3 = new S3Client({
      region: 'us-east-1',
      endpoint: s3Server.endpoint,
      forcePathStyle: true,
      credentials: { accessKeyId: 'S3RVER', secretAccessKey: 'S3RVER' },
    });
    const baseEnv = {
      PATH: process.env.PATH,
      HOME: process.env.HOME,
      NODE_ENV: 'production', // as deploy/snapstore.service and the Dockerfile run it
      HOST: '127.0.0.1',
      DATABASE_URL: databaseUrl,
      S3_ENDPOINT: s3Server.endpoint,
      S3_REGION: 'us-east-1',
      AWS_ACCESS_KEY_ID: 'S3RVER',
      AWS_SECRET_ACCESS_KEY: 'S3RVER',
      AWS_REGION: 'us-east-1',
      RATE_LIMIT_UPLOADS_PER_MINUTE: '0',
      LOG_LEVEL: 'warn',
      AWS_SDK_JS_NODE_VERSION_SUPPORT_WARNING_DISABLED: 'true',
    };
    const context = {
      tmp,
      s3,
      s3Dir,
      endpoint: s3Server.endpoint,
      s3Pid: s3Server.child.pid,
      mysqldPids: pidsByName(['mariadbd', 'mysqld']),
      databaseUrl,
      baseEnv,
      logDir,
    };
    if (context.mysqldPids.length === 0)
      console.warn('no local mariadbd/mysqld process found: its CPU is not recorded');

    // The app creates the schema (migrations) on its first start.
    {
      const bucket = `bench-schema-${randomBytes(3).toString('hex')}`;
      await s3.send(new CreateBucketCommand({ Bucket: bucket }));
      const env = { ...baseEnv, S3_BUCKET: bucket, UPLOAD_DIR: tmp };
      const server = await startServer(SETUPS.snapstore, { env, name: 'schema', logDir });
      await stopServer(server);
    }

    if (opts.uploads) {
      const files = await prepareFiles(ROOT, tmp);
      report.files = {
        mixed: files.mixed.map(({ name, size, width, height }) => ({ name, size, width, height })),
        meanBytesMixed: files.mixed.reduce((a, f) => a + f.size, 0) / files.mixed.length,
      };
      const groups = opts.concurrency.map((concurrency) => ({ mix: 'mixed', concurrency, files: files.mixed }));
      if (opts.large) groups.push({ mix: '1mb', concurrency: opts.largeConcurrency, files: files.large });
      console.log(
        `uploads: ${groups.length} groups x ${setups.length} set-ups, ${opts.durationMs / 1000} s measured each in ` +
          `${opts.rounds} turn(s); mixed = ${files.mixed.length} files (mean ` +
          `${(report.files.meanBytesMixed / 1e3).toFixed(0)} kB), 1mb = ${files.large.length} noise JPEGs of ~1,000,000 bytes`,
      );
      for (const group of groups) {
        const results = await runGroup({ ...group, setupNames: setups, context });
        for (const phase of results) {
          report.phases.push(phase);
          console.log(
            `  ${phase.name.padEnd(28)} ${fixed(phase.uploadsPerSecond).padStart(7)} uploads/s  ` +
              `${fixed(phase.megabytesPerSecond).padStart(6)} MB/s  p50 ${fixed(phase.latencyMs.p50).padStart(6)} ms  ` +
              `p99 ${fixed(phase.latencyMs.p99).padStart(6)} ms  RSS ${mib(phase.peakRssBytes).padStart(4)} MiB  ` +
              `other load ${fixed(phase.otherBusyCores, 2)} cores  errors ${phase.errors}` +
              `${phase.errors ? ` ${JSON.stringify(phase.errorKinds).slice(0, 300)}` : ''}`,
          );
        }
      }
    }

    if (opts.gallery) {
      const connection = await mysql.createConnection({ uri: databaseUrl, multipleStatements: false });
      await connection.query('TRUNCATE TABLE images');
      const seed = await seedImages(connection, {
        rows: opts.rows,
        urlPrefix: `${s3Server.endpoint}/bench-gallery`,
      });
      console.log(`gallery: seeded ${seed.rows.toLocaleString('en')} rows in ${seed.seconds.toFixed(1)} s`);
      const [[middle]] = await connection.query('SELECT id FROM images ORDER BY id LIMIT 1 OFFSET ?', [
        Math.floor(opts.rows / 2),
      ]);
      const explain = {};
      for (const [label, sql, params] of [
        ['first page', 'SELECT * FROM images ORDER BY id DESC LIMIT 25', []],
        ['deep page', 'SELECT * FROM images WHERE id < ? ORDER BY id DESC LIMIT 25', [middle.id]],
      ]) {
        const [rows] = await connection.query(`EXPLAIN ${sql}`, params);
        explain[label] = rows.map(({ type, key, rows: r, Extra }) => ({ type, key, rows: r, Extra }));
      }
      await connection.end();
      const bucket = 'bench-gallery';
      await s3.send(new CreateBucketCommand({ Bucket: bucket }));
      const env = { ...baseEnv, S3_BUCKET: bucket, UPLOAD_DIR: tmp };
      const server = await startServer(SETUPS.snapstore, { env, name: 'gallery', logDir });
      let timings;
      try {
        timings = await timeGallery(server.origin, { deepCursor: middle.id, requests: opts.galleryRequests });
      } finally {
        await stopServer(server);
      }
      report.gallery = { rows: opts.rows, seedSeconds: seed.seconds, deepCursor: middle.id, explain, timings };
    }
  } finally {
    if (s3Server) {
      s3Server.child.kill('SIGTERM');
      await waitForExit(s3Server.child, 10_000);
    }
    await admin.query(`DROP DATABASE IF EXISTS \`${dbName}\``);
    await admin.end();
    if (!opts.keep) await rm(tmp, { recursive: true, force: true });
  }

  // ---- report
  const phases = report.phases;
  report.ratios = computeRatios(phases);
  report.targets = evaluateTargets(phases, report.ratios, report.gallery);
  report.seconds = (Date.now() - began) / 1000;

  const out = [];
  if (phases.length) {
    out.push(
      '',
      'Uploads (MB = 10^6 bytes; CPU ms/upl = CPU time of that process per successful upload)',
      uploadTable(phases),
    );
    out.push('', 'Ratios (SnapStore / limit, / tutorial, / tutorial+check)', ratioTable(report.ratios));
  }
  if (report.gallery) {
    const g = report.gallery;
    const rows = [['request', 'p50 ms', 'p95 ms', 'mean ms', 'items']];
    for (const [name, t] of Object.entries(g.timings)) {
      rows.push([name, fixed(t.p50, 2), fixed(t.p95, 2), fixed(t.mean, 2), t.check.items]);
    }
    out.push(
      '',
      `Gallery: ${g.rows.toLocaleString('en')} rows, GET /images?limit=24, ${opts.galleryRequests} requests each`,
    );
    out.push(table(rows));
  }
  if (report.targets.length) {
    const rows = [['target', 'value', 'result']];
    for (const t of report.targets) rows.push([t.target, fixed(t.value, 2), t.pass ? 'PASS' : 'FAIL']);
    out.push('', 'Issue 5 targets', table(rows));
  }
  if (opts.cpuProfile) {
    for (const phase of phases) {
      const profile = path.join(RESULTS, 'profiles', `${phase.name}.cpuprofile`);
      if (!existsSync(profile)) continue;
      const summary = formatSummary(
        profile,
        summariseProfile(profile, { windows: phase.windows, uploads: phase.uploads }),
      );
      await writeFile(profile.replace(/\.cpuprofile$/, '.summary.txt'), `${summary}\n`);
      if (phase.name === 'snapstore-mixed-c16') out.push('', summary);
    }
  }
  out.push(
    '',
    `total ${report.seconds.toFixed(0)} s; JSON in ${path.relative(ROOT, path.join(RESULTS, 'latest.json'))}`,
  );
  console.log(out.join('\n'));
  await writeFile(path.join(RESULTS, 'latest.json'), `${JSON.stringify(report, null, 2)}\n`);
}

main().then(
  () => process.exit(0),
  (error) => {
    console.error(error);
    process.exit(1); // the 'exit' handler kills whatever child is left
  },
);
