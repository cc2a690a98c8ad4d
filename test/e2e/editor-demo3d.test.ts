// The 3D demo in the editor: a graph whose input has depth > 1 (preset nnformer-mam-demo)
// trains on data/demo3d, whose three whole volumes (train / val / test) the data panel lists
// with their sizes and spacing (checked against the set's own dataset.json) and opens in the
// volume viewer; one step on wasm, then validation by sliding window. A 2D preset brings the
// 2D demo back.
import { mkdirSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { encode } from 'fast-png';
import type { Page } from 'playwright-core';
import { describe, expect, it } from 'vitest';
import { ROOT } from './data-fixtures.ts';
import {
  byId,
  chooserBrowser,
  fill,
  freshTraining,
  openFolder,
  panel,
  training,
} from './train-helpers.ts';

const meta = JSON.parse(readFileSync(join(ROOT, 'data', 'demo3d', 'dataset.json'), 'utf8')) as {
  voxel_size_mm: number[];
  splits: Record<'train' | 'val' | 'test', { shape: number[] }>;
};

/** Opens a preset from the toolbar and the Train drawer, and waits for the graph to compile. */
async function openPresetToTrain(page: Page, name: string) {
  await page.getByTestId('presets').selectOption(name);
  await page.getByTestId('train-toggle').click();
  await expect.poll(async () => (await training(page)).compiled, { timeout: 240_000 }).toBe('ok');
}

/** A fresh editor on nnformer-mam-demo, its Train drawer open on the 3D demo's volumes. */
async function openDemo3d(page: Page, baseUrl: string) {
  await freshTraining(page, baseUrl);
  await openPresetToTrain(page, 'nnformer-mam-demo');
  await expect
    .poll(() => byId(page, 'data-info').textContent(), { timeout: 120_000 })
    .toMatch(/demo3d: .*3 volumes: 1 training, 1 validation, 1 test/);
}

/** A folder of two 16×16 PNG slices and their masks (labels 0–7), written by fast-png. */
function pngFolder(): string {
  const dir = join(ROOT, 'test-results', 'e2e-demo3d', 'slices');
  rmSync(dir, { recursive: true, force: true });
  for (const sub of ['images', 'masks']) mkdirSync(join(dir, sub), { recursive: true });
  for (const name of ['a', 'b']) {
    const px = (f: (i: number) => number) => Uint8Array.from({ length: 256 }, (_, i) => f(i));
    const png = (data: Uint8Array) =>
      encode({ width: 16, height: 16, data, channels: 1, depth: 8 });
    writeFileSync(join(dir, 'images', `${name}.png`), png(px((i) => i % 251)));
    writeFileSync(join(dir, 'masks', `${name}.png`), png(px((i) => (i >> 5) % 8)));
  }
  return dir;
}

describe('the 3D demo in the editor', () => {
  const browser = chooserBrowser();

  it('a 3D preset lists the three demo3d volumes; a 2D preset brings the 2D demo back', async () => {
    const { page, baseUrl } = browser.session;
    await openDemo3d(page, baseUrl);
    for (const split of ['train', 'val', 'test'] as const) {
      const row = panel(page).locator(`tr[data-case="demo-${split}"]`);
      expect(await row.locator('[data-col="size"]').textContent()).toBe(
        meta.splits[split].shape.join('×'),
      );
      expect(await row.locator('[data-col="spacing"]').textContent()).toBe(
        `${meta.voxel_size_mm.map((s) => s.toFixed(2)).join(' × ')} mm`,
      );
      expect(await row.locator('[data-col="split"]').textContent()).toBe(split);
    }
    // A volume graph's epoch is one step per training volume, at a constant rate (3D-MAM-SPEC §f).
    await expect
      .poll(() => byId(page, 'settings-summary').textContent())
      .toMatch(/^\s*1 step per epoch → .*ten validations per run.*;\s+constant schedule/s);

    await page.getByTestId('presets').selectOption('demo-mam');
    await expect
      .poll(() => byId(page, 'data-info').textContent(), { timeout: 240_000 })
      .toMatch(/demo: .*92 training slices/);
    expect(await panel(page).locator('[data-testid="data-cases"]').count()).toBe(0);
  }, 600_000);

  it('opens a demo3d volume in three views and trains nnformer-mam-demo one step on wasm, validating by sliding window', async () => {
    const { page, baseUrl } = browser.session;
    await openDemo3d(page, baseUrl);

    await panel(page).locator('tr[data-case="demo-val"] [data-testid="case-view"]').click();
    await expect
      .poll(() => panel(page).locator('[data-testid="volume-frame"]').count(), {
        timeout: 60_000,
      })
      .toBe(3);
    await browser.session.screenshot('editor-demo3d-viewer');

    await byId(page, 'backend-select').selectOption('wasm');
    await expect
      .poll(() => byId(page, 'backend-info').textContent(), { timeout: 60_000 })
      .toMatch(/^\s*wasm \(WebAssembly/);
    await fill(page, 'setting-batchSize', '1');
    await fill(page, 'setting-steps', '1');
    await fill(page, 'setting-valEvery', '1');
    await byId(page, 'train-start').click();
    await expect.poll(async () => (await training(page)).step, { timeout: 300_000 }).toBe(1);
    await expect.poll(async () => (await training(page)).validations, { timeout: 300_000 }).toBe(1);
    await expect
      .poll(() => byId(page, 'val-chart').locator('circle').count())
      .toBeGreaterThanOrEqual(1);
    await expect.poll(async () => (await training(page)).running, { timeout: 60_000 }).toBe(false);
    await browser.session.screenshot('editor-demo3d-trained');
  }, 900_000);

  it('a 3D graph with a folder of 2D slices: Start shows the session’s refusal in the panel, the graph kept', async () => {
    const { page, baseUrl } = browser.session;
    await openDemo3d(page, baseUrl);
    const nodes = (await page.evaluate(() => window.__mam!.doc)).nodes.length;
    await openFolder(page, pngFolder());
    await expect
      .poll(() => byId(page, 'data-info').textContent())
      .toMatch(/PNG folder slices: 1 training slices, 1 validation/);
    await byId(page, 'train-start').click();
    await expect
      .poll(() => byId(page, 'train-notice').textContent())
      .toMatch(
        /Cannot start: the graph takes volumes \(B×64×64×64×1\) but PNG folder slices holds 2D slices: give it volumes/,
      );
    expect((await training(page)).running).toBe(false);
    expect((await page.evaluate(() => window.__mam!.doc)).nodes.length).toBe(nodes);
  }, 600_000);
});
