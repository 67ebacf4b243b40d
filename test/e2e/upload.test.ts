import { readFileSync } from 'node:fs';
import path from 'node:path';
import type { Browser, BrowserContext, FileChooser, Page, Request } from 'playwright-core';
import { afterAll, afterEach, beforeAll, beforeEach, describe, expect, it } from 'vitest';
import { SAMPLES_DIR } from '../support/samples.js';
import {
  expectNoSeriousA11yViolations,
  focusedId,
  hasChromium,
  launchBrowser,
  naturalWidth,
  screenshot,
  serveTestApp,
  watchForProblems,
  type Served,
} from './browser.js';

const JPEG = path.join(SAMPLES_DIR, 'jpg/DSCN0010.jpg');
const PNG = path.join(SAMPLES_DIR, 'png/basn6a08.png');
const OVERSIZE = path.join(SAMPLES_DIR, 'bad/oversize-phone-photo.jpg');
const IMAGE_PAGE = /\/images\/[0-9a-f-]{36}$/;

/** Just what the in-page functions below use (the test project's types have no DOM). */
declare const document: {
  querySelector(selector: string): { dispatchEvent(event: unknown): boolean; value?: number } | null;
};
declare class DataTransfer {
  readonly items: { add(file: File): void };
}
declare class DragEvent {
  constructor(type: string, init: { bubbles: boolean; cancelable: boolean; dataTransfer: DataTransfer });
}
declare class MutationObserver {
  constructor(callback: () => void);
  observe(target: unknown, options: { attributes: boolean; attributeFilter: string[] }): void;
}

describe.skipIf(!hasChromium)('the upload page in Chromium', () => {
  let t: Served;
  let browser: Browser;
  let context: BrowserContext;
  let page: Page;
  let problems: string[];
  let posts: Request[];

  beforeAll(async () => {
    t = await serveTestApp();
    browser = await launchBrowser();
  });
  afterAll(async () => {
    await browser?.close();
    await t?.close();
  });
  beforeEach(async () => {
    context = await browser.newContext({ baseURL: t.baseUrl, viewport: { width: 1100, height: 900 } });
    page = await context.newPage();
    problems = watchForProblems(page);
    posts = [];
    page.on('request', (request) => {
      if (request.method() === 'POST') posts.push(request);
    });
  });
  afterEach(async () => {
    await context.close();
  });

  /** Records every value the progress bar takes, from the page itself (across the navigation). */
  async function recordProgress() {
    const seen: number[] = [];
    await page.exposeFunction('reportProgress', (value: number) => seen.push(value));
    await page.evaluate(() => {
      const bar = document.querySelector('#upload-progress')!;
      const report = (globalThis as unknown as { reportProgress(value: number): void }).reportProgress;
      new MutationObserver(() => report(Number(bar.value))).observe(bar, {
        attributes: true,
        attributeFilter: ['value'],
      });
    });
    return seen;
  }

  /** Slows uploads down so that the progress bar has steps to show on a loopback connection. */
  async function throttleUploads(bytesPerSecond: number) {
    const cdp = await context.newCDPSession(page);
    await cdp.send('Network.enable');
    await cdp.send('Network.emulateNetworkConditions', {
      offline: false,
      latency: 20,
      downloadThroughput: -1,
      uploadThroughput: bytesPerSecond,
    });
  }

  it('uploads a dropped image with a preview and a progress bar, then shows its page', async () => {
    await page.goto('/');
    await page.getByLabel('Your name').fill('Dora Dropper');
    const bytes = readFileSync(JPEG).toString('base64');
    await page.evaluate(
      ({ base64, name }) => {
        const raw = atob(base64);
        const data = new Uint8Array(raw.length);
        for (let i = 0; i < raw.length; i += 1) data[i] = raw.charCodeAt(i);
        const transfer = new DataTransfer();
        transfer.items.add(new File([data], name, { type: 'image/jpeg' }));
        const zone = document.querySelector('[data-dropzone]')!;
        for (const type of ['dragenter', 'dragover', 'drop']) {
          zone.dispatchEvent(new DragEvent(type, { bubbles: true, cancelable: true, dataTransfer: transfer }));
        }
      },
      { base64: bytes, name: 'dropped.jpg' },
    );

    const preview = page.locator('[data-preview]');
    await expect.poll(() => preview.isVisible()).toBe(true);
    await expect.poll(() => naturalWidth(preview.locator('img'))).toBe(640);
    expect(await preview.textContent()).toContain('dropped.jpg · 157.9 KiB · 640 × 480');
    expect(
      await page
        .locator('#image')
        .evaluate((input) => (input as unknown as { files: { length: number } }).files.length),
    ).toBe(1);

    const progress = await recordProgress();
    await throttleUploads(128 * 1024);
    await page.getByRole('button', { name: 'Upload' }).click();
    await expect.poll(() => page.locator('[data-progress]').isVisible()).toBe(true);
    await page.waitForURL(IMAGE_PAGE, { timeout: 20_000 });

    expect(await page.locator('h1').textContent()).toBe('Image by Dora Dropper');
    const seen = progress;
    expect(
      seen.some((value) => value > 0 && value < 100),
      `progress values: ${seen.join(', ')}`,
    ).toBe(true);
    expect(seen.at(-1)).toBe(100);
    expect(posts.map((p) => [p.url(), p.headers()['accept']])).toEqual([[`${t.baseUrl}/images`, 'application/json']]);
    expect(problems).toEqual([]);
  });

  it('uploads a picked image, keeps the name and shows it on the image page', async () => {
    await page.goto('/');
    await page.getByLabel('Your name').fill('Pia Picker');
    await page.getByLabel('Image', { exact: true }).setInputFiles(JPEG);
    await expect.poll(() => page.locator('[data-preview] img').isVisible()).toBe(true);
    await expect.poll(() => page.locator('[data-preview-caption]').textContent()).toContain('640 × 480');
    await screenshot(page, 'upload-page');

    const progress = await recordProgress();
    await page.getByRole('button', { name: 'Upload' }).click();
    await page.waitForURL(IMAGE_PAGE);
    expect(await page.locator('h1').textContent()).toBe('Image by Pia Picker');
    expect(progress.at(-1)).toBe(100);
    expect(await naturalWidth(page.locator('.image-view img'))).toBe(640);
    expect(problems).toEqual([]);
  });

  it('opens the file picker from the keyboard, with Enter and with Space', async () => {
    // Listening before the page loads: Playwright turns file-chooser interception on asynchronously.
    const choosers: FileChooser[] = [];
    page.on('filechooser', (chooser) => choosers.push(chooser));
    await page.goto('/');
    await page.getByLabel('Your name').focus();
    await page.keyboard.press('Tab');
    expect(await focusedId(page)).toBe('image');
    for (const [i, key] of ['Enter', 'Space'].entries()) {
      await page.keyboard.press(key);
      await expect.poll(() => choosers.length).toBe(i + 1);
      await choosers[i]!.setFiles(i === 0 ? PNG : JPEG);
      await expect
        .poll(() => page.locator('[data-preview-caption]').textContent())
        .toContain(path.basename(i === 0 ? PNG : JPEG));
    }
    // Tab goes on to the button, and Enter there uploads.
    await page.getByLabel('Your name').fill('Kim Keyboard');
    await page.getByLabel('Image', { exact: true }).focus();
    await page.keyboard.press('Tab');
    await page.keyboard.press('Enter');
    await page.waitForURL(IMAGE_PAGE);
    expect(await page.locator('h1').textContent()).toBe('Image by Kim Keyboard');
  });

  it('stops an oversize image before sending it, with the message next to the field', async () => {
    await page.goto('/');
    await page.getByLabel('Your name').fill('Olly Oversize');
    await page.getByLabel('Image', { exact: true }).setInputFiles(OVERSIZE);
    const message = page.locator('#image-error');
    await expect.poll(() => message.textContent()).toContain('larger than the 1 MiB limit');
    expect(await message.textContent()).toContain('This image is 2.1 MiB');
    expect(await page.getByLabel('Image', { exact: true }).getAttribute('aria-invalid')).toBe('true');
    expect(await message.getAttribute('aria-live')).toBe('assertive');

    await page.getByRole('button', { name: 'Upload' }).click();
    await page.waitForTimeout(300);
    expect(posts).toEqual([]);
    expect(new URL(page.url()).pathname).toBe('/');
    expect(await page.locator('[data-progress]').isVisible()).toBe(false);
    await screenshot(page, 'upload-page-error');
    await expectNoSeriousA11yViolations(page);
    expect(problems).toEqual([]);
  });

  it('stops a file that is not an image, and a missing name, before sending', async () => {
    await page.goto('/');
    await page
      .getByLabel('Image', { exact: true })
      .setInputFiles({ name: 'notes.jpg', mimeType: 'image/jpeg', buffer: Buffer.from('not a picture at all') });
    await expect.poll(() => page.locator('#image-error').textContent()).toContain('not a JPEG, PNG, GIF or WebP');
    await page.getByRole('button', { name: 'Upload' }).click();
    await expect.poll(() => page.locator('#name-error').textContent()).toContain('Enter your name');
    expect(await focusedId(page)).toBe('name');
    await page.getByLabel('Your name').fill('Nina');
    expect(await page.locator('#name-error').textContent()).toBe('');
    await page.getByRole('button', { name: 'Upload' }).click();
    await page.waitForTimeout(300);
    expect(posts).toEqual([]);
  });

  it("shows the server's JSON error next to the field when the server refuses the image", async () => {
    await page.goto('/');
    await page.getByLabel('Your name').fill('Cora Corrupt');
    // Starts like a PNG, so it passes the quick check; the server finds it cannot be decoded.
    await page.getByLabel('Image', { exact: true }).setInputFiles(path.join(SAMPLES_DIR, 'bad/badcrc.png'));
    await page.getByRole('button', { name: 'Upload' }).click();
    await expect
      .poll(() => page.locator('#image-error').textContent())
      .toMatch(/PNG image but its pixels cannot be read|not a JPEG, PNG/);
    expect(posts).toHaveLength(1);
    expect(new URL(page.url()).pathname).toBe('/');
    expect(await page.getByRole('button', { name: 'Upload' }).isEnabled()).toBe(true);
    expect(await page.locator('[data-progress]').isVisible()).toBe(false);
  });

  it('works without JavaScript: the plain form posts and lands on the image page', async () => {
    const noJs = await browser.newContext({ baseURL: t.baseUrl, javaScriptEnabled: false });
    try {
      const plain = await noJs.newPage();
      await plain.goto('/');
      await plain.getByLabel('Your name').fill('Nora NoScript');
      await plain.getByLabel('Image', { exact: true }).setInputFiles(JPEG);
      await plain.getByRole('button', { name: 'Upload' }).click();
      await plain.waitForURL(IMAGE_PAGE);
      expect(await plain.locator('h1').textContent()).toBe('Image by Nora NoScript');
      // Without JavaScript the copy buttons stay hidden; the fields remain to copy by hand.
      expect(await plain.getByRole('button', { name: /Copy/ }).count()).toBe(0);
      expect(await plain.getByLabel('Public URL').inputValue()).toMatch(/\/uploads\/[0-9a-f-]{36}\.jpg$/);

      await plain.goto('/');
      await plain.getByLabel('Your name').fill('Olly <Oversize>');
      await plain.getByLabel('Image', { exact: true }).setInputFiles(OVERSIZE);
      await plain.getByRole('button', { name: 'Upload' }).click();
      await plain.waitForLoadState();
      expect(await plain.locator('#image-error').textContent()).toContain('larger than the 1 MiB limit');
      expect(await plain.getByLabel('Your name').inputValue()).toBe('Olly <Oversize>');
    } finally {
      await noJs.close();
    }
  });
});
