import { mkdir, readFile } from 'node:fs/promises';
import type { AddressInfo } from 'node:net';
import type { Server } from 'node:http';
import { createRequire } from 'node:module';
import path from 'node:path';
import { fileURLToPath } from 'node:url';
import { chromium, type Browser, type Locator, type Page } from 'playwright-core';
import { expect } from 'vitest';
import { CHROMIUM, hasChromium } from './chromium.js';
import { createTestApp, type TestApp } from '../support/test-app.js';

export { hasChromium };

export const SCREENSHOTS = path.resolve(
  path.dirname(fileURLToPath(import.meta.url)),
  '../../test-artifacts/screenshots',
);

export function launchBrowser(): Promise<Browser> {
  return chromium.launch({
    executablePath: CHROMIUM,
    headless: true,
    args: [
      '--no-sandbox',
      '--disable-gpu',
      '--disable-background-networking',
      '--disable-component-update',
      '--disable-sync',
      '--no-first-run',
    ],
  });
}

export interface Served extends TestApp {
  baseUrl: string;
}

/** The real app (SQLite + local disk) listening on a free port of 127.0.0.1. */
export async function serveTestApp(): Promise<Served> {
  const t = await createTestApp('sqlite+local');
  const server: Server = t.app.listen(0, '127.0.0.1');
  await new Promise<void>((resolve, reject) => {
    server.once('listening', resolve);
    server.once('error', reject);
  });
  const { port } = server.address() as AddressInfo;
  return {
    ...t,
    baseUrl: `http://127.0.0.1:${port}`,
    async close(options) {
      server.closeAllConnections();
      await new Promise<void>((resolve) => server.close(() => resolve()));
      await t.close(options);
    },
  };
}

/** Problems the page reports: script errors, CSP refusals, failed loads. None are expected. */
export function watchForProblems(page: Page): string[] {
  const problems: string[] = [];
  page.on('pageerror', (error) => problems.push(`pageerror: ${error.message}`));
  page.on('console', (message) => {
    if (message.type() === 'error') problems.push(`console: ${message.text()}`);
  });
  return problems;
}

let axeSource: string | undefined;

/** Runs axe-core in the page; fails on serious or critical violations, listing them. */
export async function expectNoSeriousA11yViolations(page: Page): Promise<void> {
  axeSource ??= await readFile(createRequire(import.meta.url).resolve('axe-core/axe.min.js'), 'utf8');
  // Evaluated through the DevTools protocol, which the page's CSP (script-src 'self') does not
  // govern: an injected <script> would be refused, and the CSP stays on for the pages under test.
  await page.evaluate(axeSource);
  const violations = await page.evaluate(async () => {
    const axe = (globalThis as unknown as { axe: { run(): Promise<{ violations: AxeViolation[] }> } }).axe;
    const result = await axe.run();
    return result.violations.map((v) => ({
      id: v.id,
      impact: v.impact,
      help: v.help,
      targets: v.nodes.map((n) => n.target.join(' ')),
    }));
  });
  const serious = violations.filter((v) => v.impact === 'serious' || v.impact === 'critical');
  expect(serious, JSON.stringify(serious, null, 2)).toEqual([]);
}

interface AxeViolation {
  id: string;
  impact: string | null;
  help: string;
  nodes: Array<{ target: string[] }>;
}

export async function screenshot(page: Page, name: string): Promise<void> {
  await mkdir(SCREENSHOTS, { recursive: true });
  await page.screenshot({ path: path.join(SCREENSHOTS, `${name}.png`), fullPage: true });
}

/** Uploads through the JSON API, as curl would: for pages that need images to show. */
export async function uploadViaApi(baseUrl: string, bytes: Buffer, name: string, filename = 'photo.jpg') {
  const form = new FormData();
  form.set('name', name);
  form.set('image', new Blob([bytes]), filename);
  const response = await fetch(`${baseUrl}/images`, { method: 'POST', body: form });
  expect(response.status).toBe(201);
  return (await response.json()) as {
    id: string;
    url: string;
    name: string;
    size: number;
    width: number;
    height: number;
  };
}

/** The id of the focused element. */
export function focusedId(page: Page): Promise<string | undefined> {
  return page.evaluate('document.activeElement?.id');
}

/** An image's decoded width: 0 while it has not loaded (or could not be). */
export function naturalWidth(image: Locator): Promise<number> {
  return image.evaluate((img) => (img as unknown as { naturalWidth: number }).naturalWidth);
}
