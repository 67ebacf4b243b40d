import { spawn, type ChildProcess } from 'node:child_process';
import { mkdtemp, rm } from 'node:fs/promises';
import os from 'node:os';
import path from 'node:path';
import { fileURLToPath } from 'node:url';
import { afterEach } from 'vitest';

export const ROOT = path.resolve(path.dirname(fileURLToPath(import.meta.url)), '../..');
const MAIN = path.join(ROOT, 'src/main.ts');

export interface Started {
  child: ChildProcess;
  output: () => string;
  exited: Promise<number | null>;
}

/** Runs src/main.ts as `npm start` would, in a fresh folder with only the given environment. */
export function startServer(cwd: string, env: Record<string, string>): Started {
  let output = '';
  const child = spawn(process.execPath, ['--import', import.meta.resolve('tsx'), MAIN], {
    cwd,
    env: {
      PATH: process.env.PATH!,
      HOME: cwd,
      NODE_PATH: path.join(ROOT, 'node_modules'),
      PORT: '0',
      HOST: '127.0.0.1',
      ...env,
    },
    stdio: ['ignore', 'pipe', 'pipe'],
  });
  child.stdout!.on('data', (chunk: Buffer) => (output += chunk));
  child.stderr!.on('data', (chunk: Buffer) => (output += chunk));
  const exited = new Promise<number | null>((resolve) => child.on('exit', (code) => resolve(code)));
  return { child, output: () => output, exited };
}

export async function listeningOrigin(started: Started): Promise<string> {
  for (let i = 0; i < 300; i += 1) {
    const match = /listening on (http:\/\/[\w.]+:\d+)/.exec(started.output());
    if (match) return match[1]!;
    if (started.child.exitCode !== null) break;
    await new Promise((resolve) => setTimeout(resolve, 50));
  }
  throw new Error(`server did not start:\n${started.output()}`);
}

/**
 * For tests that start servers in folders of their own: `tempDir()` makes a folder and
 * `onCleanup()` registers anything else to undo; all of it is undone after each test.
 */
export function useCleanups(prefix: string) {
  const cleanups: Array<() => Promise<unknown>> = [];
  afterEach(async () => {
    for (const cleanup of cleanups.splice(0)) await cleanup();
  });
  return {
    onCleanup: (cleanup: () => Promise<unknown>) => cleanups.push(cleanup),
    async tempDir() {
      const dir = await mkdtemp(path.join(os.tmpdir(), prefix));
      cleanups.push(() => rm(dir, { recursive: true, force: true }));
      return dir;
    },
  };
}
