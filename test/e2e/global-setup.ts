import { execFileSync } from 'node:child_process';
import { existsSync } from 'node:fs';
import { createRequire } from 'node:module';
import path from 'node:path';
import { fileURLToPath } from 'node:url';
import { CHROMIUM } from './chromium.js';

const ROOT = path.resolve(path.dirname(fileURLToPath(import.meta.url)), '../..');

/**
 * Once per run, before the browser tests: compiles src/browser into public/js (build output,
 * not committed, so a fresh clone gets it here), and insists on Chromium in CI.
 */
export default function setup() {
  if (!existsSync(CHROMIUM)) {
    if (process.env.CI === 'true') {
      throw new Error(`CI=true but there is no ${CHROMIUM}: install Debian's chromium (see .ci/run).`);
    }
    console.warn(`No ${CHROMIUM}: the browser tests are skipped (apt-get install chromium to run them).`);
  }
  const tsc = createRequire(import.meta.url).resolve('typescript/bin/tsc');
  execFileSync(process.execPath, [tsc, '-p', 'tsconfig.browser.json'], { cwd: ROOT, stdio: 'inherit' });
}
