import type { Browser, BrowserContext, Page } from 'playwright-core';
import { afterAll, afterEach, beforeAll, beforeEach, describe, expect, it } from 'vitest';
import path from 'node:path';
import { SAMPLES_DIR, sample } from '../support/samples.js';
import {
  expectNoSeriousA11yViolations,
  hasChromium,
  launchBrowser,
  naturalWidth,
  screenshot,
  serveTestApp,
  uploadViaApi,
  watchForProblems,
  type Served,
} from './browser.js';

declare const navigator: { clipboard: { readText(): Promise<string> } };

describe.skipIf(!hasChromium)('the image page and the gallery in Chromium', () => {
  let t: Served;
  let browser: Browser;
  let context: BrowserContext;
  let page: Page;
  let problems: string[];

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
    await context.grantPermissions(['clipboard-read', 'clipboard-write'], { origin: t.baseUrl });
    page = await context.newPage();
    problems = watchForProblems(page);
  });
  afterEach(async () => {
    await context.close();
  });

  // Runs first: the app starts with nothing uploaded.
  it('shows an empty state when nothing is uploaded', async () => {
    await page.goto('/images');
    expect(await page.locator('.empty-state').textContent()).toContain('Nothing uploaded yet.');
    await page.getByRole('link', { name: 'Upload the first image' }).click();
    await page.waitForURL(`${t.baseUrl}/`);
    expect(await page.locator('.latest .empty').textContent()).toContain('Nothing uploaded yet.');
    await expectNoSeriousA11yViolations(page);
    expect(problems).toEqual([]);
  });

  it('shows the image with its facts, and copies the URL and the snippets', async () => {
    const image = await uploadViaApi(t.baseUrl, sample('jpg/landscape_1.jpg'), 'Ada [the] "Lovelace"', 'landscape.jpg');
    await page.goto(`/images/${image.id}`);
    expect(await page.locator('h1').textContent()).toBe('Image by Ada [the] "Lovelace"');
    const facts = await page.locator('.facts').innerText();
    expect(facts).toContain('Ada [the] "Lovelace"');
    expect(facts).toContain(`${(image.size / 1024).toFixed(1)} KiB (${image.size.toLocaleString('en')} bytes)`);
    expect(facts).toContain(`${image.width} × ${image.height} pixels`);
    expect(facts).toMatch(/\d{1,2} \w+ \d{4}(,| at) \d\d:\d\d UTC/);
    expect(await naturalWidth(page.locator('.image-view img'))).toBe(image.width);

    const url = `${t.baseUrl}/uploads/${image.id}.jpg`;
    const expected = {
      'Public URL': url,
      Markdown: `![Ada \\[the\\] "Lovelace"](${url})`,
      HTML: `<img src="${url}" alt="Ada [the] &quot;Lovelace&quot;">`,
    };
    for (const [label, value] of Object.entries(expected)) {
      expect(await page.getByLabel(label, { exact: true }).inputValue()).toBe(value);
      await page.getByRole('button', { name: `Copy ${label}` }).click();
      // The button's name changes with its state: find it by what it copies.
      const button = page.locator(
        `button[data-copy="${await page.getByLabel(label, { exact: true }).getAttribute('id')}"]`,
      );
      await expect.poll(() => button.textContent()).toBe(`Copied ${label}`);
      expect(await page.evaluate(() => navigator.clipboard.readText())).toBe(value);
      expect(await page.locator('[data-copy-status]').textContent()).toBe(`${label} copied to the clipboard.`);
    }
    // The "Copied" state goes back to "Copy" after a moment.
    await expect
      .poll(() => page.locator('button[data-copy="share-url"]').textContent(), { timeout: 4_000 })
      .toBe('Copy Public URL');
    // Keyboard: the copy buttons are reachable and work with Enter.
    await page.getByLabel('Markdown').focus();
    await page.keyboard.press('Tab');
    await page.keyboard.press('Enter');
    expect(await page.evaluate(() => navigator.clipboard.readText())).toBe(expected.Markdown);

    await screenshot(page, 'image-page-shared');
    await expectNoSeriousA11yViolations(page);
    expect(problems).toEqual([]);
  });

  it('shows the delete token once after a browser upload, and deletes the image with it', async () => {
    await page.goto('/');
    await page.getByLabel('Your name').fill('Dee Leter');
    await page.getByLabel('Image', { exact: true }).setInputFiles(path.join(SAMPLES_DIR, 'jpg/portrait_8.jpg'));
    await page.getByRole('button', { name: 'Upload' }).click();
    await page.waitForURL(/\/images\/[0-9a-f-]{36}$/);
    const imagePage = page.url();

    const token = await page.locator('#delete-token-copy').inputValue();
    expect(token).toMatch(/^[\w-]{32}$/);
    await page.getByRole('button', { name: 'Copy Delete token' }).click();
    await expect.poll(() => page.evaluate(() => navigator.clipboard.readText())).toBe(token);
    await screenshot(page, 'image-page');
    await expectNoSeriousA11yViolations(page);

    // Shown once: a reload no longer has it.
    await page.reload();
    expect(await page.locator('#delete-token-copy').count()).toBe(0);

    // Deleting asks first; cancelling keeps the image.
    await page.getByText('Delete this image').click();
    await page.getByLabel('Delete token').fill(token);
    page.once('dialog', (dialog) => void dialog.dismiss());
    await page.getByRole('button', { name: 'Delete', exact: true }).click();
    await page.waitForTimeout(300);
    expect(page.url()).toBe(imagePage);

    page.once('dialog', (dialog) => void dialog.accept());
    await page.getByRole('button', { name: 'Delete', exact: true }).click();
    await page.waitForURL(`${t.baseUrl}/images?deleted=1`);
    expect(await page.getByRole('status').first().textContent()).toContain('The image was deleted.');
    expect(await page.locator('.card-name').allTextContents()).not.toContain('Dee Leter');
    expect((await page.goto(imagePage))!.status()).toBe(404);
    expect(problems.filter((p) => !p.includes('404'))).toEqual([]);
  });

  it('lists uploads newest first with uploader and date, and pages with Older and Newest', async () => {
    for (const [file, name] of [
      ['jpg/portrait_6.jpg', 'Grace Hopper'],
      ['jpg/landscape_3.jpg', 'Alan Turing'],
      ['jpg/Canon_40D.jpg', 'Katherine Johnson'],
      ['png/basn2c16.png', 'Edsger Dijkstra'],
      ['jpg/DSCN0012.jpg', 'Barbara Liskov'],
      ['jpg/Nikon_D70.jpg', 'Margaret Hamilton'],
    ] as const) {
      await uploadViaApi(t.baseUrl, sample(file), name, file.split('/')[1]);
    }
    await page.goto('/images');
    const names = await page.locator('.card-name').allTextContents();
    expect(names.slice(0, 3)).toEqual(['Margaret Hamilton', 'Barbara Liskov', 'Edsger Dijkstra']);
    expect(names).toHaveLength(7);
    expect(await page.locator('.card-date time').first().textContent()).toMatch(/UTC$/);
    // Every thumbnail loaded.
    const widths = await page
      .locator('.card img')
      .evaluateAll((imgs) => imgs.map((img) => (img as unknown as { naturalWidth: number }).naturalWidth));
    expect(widths.every((w) => w > 0)).toBe(true);
    // Cards show the small WebP thumbnails, not the originals.
    expect(await page.locator('.card img').first().getAttribute('src')).toMatch(/\/thumbs\/[0-9a-f-]{36}\.webp$/);
    expect(await page.getByRole('link', { name: 'Newest' }).count()).toBe(0);
    await screenshot(page, 'gallery');
    await expectNoSeriousA11yViolations(page);

    await page.goto('/images?limit=3');
    await page.getByRole('link', { name: 'Older' }).click();
    await page.waitForURL(/limit=3&cursor=/);
    expect(await page.locator('.card-name').allTextContents()).toEqual([
      'Katherine Johnson',
      'Alan Turing',
      'Grace Hopper',
    ]);
    await page.getByRole('link', { name: 'Older' }).click();
    await page.waitForURL(/cursor=/);
    expect(await page.locator('.card-name').allTextContents()).toEqual(['Ada [the] "Lovelace"']);
    expect(await page.getByRole('link', { name: 'Older' }).count()).toBe(0);
    await page.getByRole('link', { name: 'Newer' }).click();
    await page.waitForURL(/limit=3&after=/);
    expect(await page.locator('.card-name').allTextContents()).toEqual([
      'Katherine Johnson',
      'Alan Turing',
      'Grace Hopper',
    ]);
    await page.getByRole('link', { name: 'Newer' }).click();
    expect(await page.locator('.card-name').allTextContents()).toEqual([
      'Margaret Hamilton',
      'Barbara Liskov',
      'Edsger Dijkstra',
    ]);
    expect(await page.getByRole('link', { name: 'Newer' }).count()).toBe(0);
    await page.goto(
      '/images?limit=3&cursor=' + (await page.locator('.card a').last().getAttribute('href'))!.split('/').pop(),
    );
    await page.getByRole('link', { name: 'Newest' }).click();
    await page.waitForURL(`${t.baseUrl}/images`);
    expect((await page.locator('.card-name').allTextContents())[0]).toBe('Margaret Hamilton');
    expect(problems).toEqual([]);
  });

  it('has no serious accessibility problems on the upload page', async () => {
    await page.goto('/');
    await screenshot(page, 'upload-page-empty');
    await expectNoSeriousA11yViolations(page);
    expect(problems).toEqual([]);
  });
});
