// Runs the production build (dist/main.js) in BENCH_WORKERS processes sharing one port with
// node:cluster, to see what a cluster deployment would gain on this machine. Bench-only: the
// app itself has no cluster mode. SIGTERM is passed on to every worker.
import cluster from 'node:cluster';
import os from 'node:os';

if (cluster.isPrimary) {
  const workers = Number(process.env.BENCH_WORKERS ?? os.availableParallelism());
  // One after the other: each worker's start-up storage check writes and deletes the same probe
  // key, which s3rver cannot take concurrently.
  for (let i = 0; i < workers; i++) {
    const worker = cluster.fork();
    await new Promise((resolve) => {
      worker.once('listening', resolve);
      worker.once('exit', resolve);
    });
  }
  let exited = 0;
  cluster.on('exit', (worker, code) => {
    exited += 1;
    if (code !== 0) console.error(`worker ${worker.process.pid} exited with ${code}`);
    if (exited === workers) process.exit(0);
  });
  const stop = (signal) => {
    for (const worker of Object.values(cluster.workers ?? {})) worker?.process.kill(signal);
  };
  process.on('SIGTERM', () => stop('SIGTERM'));
  process.on('SIGINT', () => stop('SIGTERM'));
} else {
  await import('../dist/main.js');
}
