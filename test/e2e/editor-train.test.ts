// The Train drawer driven as a user drives it: backend picker, settings,
// Start/Stop, evaluation, a SAM→MAM swap that keeps the weights, weights out
// and back in. The demo graph trains on wasm (fast on a CPU); state is read
// through window.__mam.training, actions go through the UI.
import { mkdirSync, writeFileSync } from 'node:fs';
import { join, resolve } from 'node:path';
import type { Page } from 'playwright-core';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { openBrowser, type BrowserSession } from './browser.ts';
import { boxOf, canvasBox, drag, freshEditor, node, nodeType, settle } from './editor-helpers.ts';

const FILES = resolve(import.meta.dirname, '../../test-results/e2e-train');

const training = (page: Page) => page.evaluate(() => window.__mam!.training!);
const panel = (page: Page) => page.locator('mam-train-panel');
const byId = (page: Page, id: string) => panel(page).getByTestId(id);

/**
 * Pans the canvas left until a node sits well inside it, dragging along the
 * empty strip at the top of the canvas (the demo graph starts lower down).
 */
async function panTo(page: Page, id: string) {
  for (let i = 0; i < 10; i++) {
    const c = await canvasBox(page);
    const b = await boxOf(node(page, id));
    if (b.x + b.width < c.x + c.width - 60) return;
    const dx = Math.min(500, b.x + b.width - (c.x + c.width / 2));
    const from = { x: c.x + c.width - 40, y: c.y + 25 };
    await drag(page, from, { x: from.x - dx, y: from.y }, 8);
    await settle(page);
  }
}

async function swapByMenu(page: Page, id: string, item: string) {
  await panTo(page, id);
  const b = await boxOf(node(page, id).locator('header'));
  await page.mouse.click(b.x + b.width / 2, b.y + b.height / 2, { button: 'right' });
  await page.locator('[data-testid="menu-item"]', { hasText: item }).first().click();
  await settle(page);
}

async function fill(page: Page, id: string, value: string) {
  const input = byId(page, id);
  await input.fill(value);
  await input.dispatchEvent('change');
}

describe('editor training', () => {
  let session: BrowserSession;

  beforeAll(async () => {
    mkdirSync(FILES, { recursive: true });
    session = await openBrowser('/');
  });
  afterAll(async () => {
    await session?.close();
  });

  it('trains the demo graph on wasm, stops with the history kept, and evaluates per class', async () => {
    const { page, baseUrl } = session;
    await freshEditor(page, baseUrl);
    await page.getByTestId('train-toggle').click();
    await expect
      .poll(() => byId(page, 'data-info').textContent(), { timeout: 60_000 })
      .toMatch(/92 training slices/);
    await expect
      .poll(() => byId(page, 'weights-note').textContent())
      .toMatch(/Compiled: \d+ weight tensors/);
    // Defaults come from the graph's metadata.training (demo-mam: AdamW, batch 4, seed 1234, no augmentation).
    expect(await byId(page, 'setting-batchSize').inputValue()).toBe('4');
    expect(await byId(page, 'setting-optimizer').inputValue()).toBe('adamw');
    expect(await byId(page, 'setting-seed').inputValue()).toBe('1234');
    expect(await byId(page, 'setting-augment').isChecked()).toBe(false);

    await byId(page, 'backend-select').selectOption('wasm');
    await expect
      .poll(() => byId(page, 'backend-info').textContent(), { timeout: 30_000 })
      .toMatch(/^\s*wasm \(WebAssembly/);

    await fill(page, 'setting-batchSize', '2');
    await fill(page, 'setting-steps', '60');
    await fill(page, 'setting-valEvery', '3');
    await byId(page, 'train-start').click();
    await expect
      .poll(async () => (await training(page)).step, { timeout: 90_000 })
      .toBeGreaterThanOrEqual(4);
    await expect
      .poll(async () => (await training(page)).validations, { timeout: 60_000 })
      .toBeGreaterThanOrEqual(1);
    expect(await byId(page, 'progress-step').textContent()).toMatch(/step\s+\d+\/60/);
    expect(await byId(page, 'progress-speed').textContent()).toMatch(/\d+\.\d+ img\/s/);
    expect(await byId(page, 'loss-chart').locator('path').count()).toBeGreaterThan(0);
    await session.screenshot('editor-train-running');

    await byId(page, 'train-stop').click();
    await expect.poll(async () => (await training(page)).running, { timeout: 60_000 }).toBe(false);
    const stopped = await training(page);
    expect(stopped.lossPoints).toBe(stopped.step);
    expect(stopped.canResume).toBe(true);
    await expect
      .poll(() => byId(page, 'train-notice').textContent())
      .toMatch(/Stopped at step \d+: weights and history kept/);
    await expect.poll(() => byId(page, 'train-start').textContent()).toMatch(/Resume/);

    await byId(page, 'eval-run').click();
    await expect
      .poll(async () => (await training(page)).evaluation?.convention, { timeout: 60_000 })
      .toBe('synapse');
    const label = await panel(page)
      .locator('mam-eval-table')
      .getByTestId('eval-convention')
      .textContent();
    expect(label).toMatch(/synapse convention/);
    expect(await panel(page).locator('mam-eval-table').getByTestId('eval-note').textContent()).toBe(
      'single-subject demo, not a benchmark',
    );
    const rows = await panel(page)
      .locator('mam-eval-table tbody tr[data-class]')
      .evaluateAll((trs) => trs.map((t) => t.getAttribute('data-class')));
    expect(rows).toEqual([
      'frontal',
      'limbic',
      'occipital',
      'parietal',
      'deep grey',
      'temporal',
      'cerebellum',
    ]);
    // History is still there after the evaluation; the preview shows a test slice.
    expect((await training(page)).lossPoints).toBe(stopped.lossPoints);
    await expect
      .poll(() => panel(page).locator('mam-slice-view').getByTestId('class-legend').textContent())
      .toMatch(/frontal/);
    await panel(page).locator('mam-eval-table').scrollIntoViewIfNeeded();
    await session.screenshot('editor-train-evaluated');
    await panel(page).locator('mam-slice-view').scrollIntoViewIfNeeded();
    await session.screenshot('editor-train-slice');
  });

  it('keeps every weight across a SAM→MAM swap, exports them and imports them back', async () => {
    const { page } = session;
    const before = (await training(page)).weights!;
    expect(before.tensors).toBeGreaterThan(0);

    await page.getByTestId('train-toggle').click(); // close the drawer to reach the canvas
    await swapByMenu(page, 'layers_up.1.blocks.0', 'Swap to memory-attention (MAM)');
    expect(await nodeType(page, 'layers_up.1.blocks.0')).toBe('mam-swin-block');
    await page.getByTestId('train-toggle').click();
    await expect
      .poll(() => byId(page, 'weights-note').textContent(), { timeout: 30_000 })
      .toMatch(/Graph changed: kept/);
    const after = (await training(page)).weights!;
    expect(after).toMatchObject({
      kept: before.tensors,
      reinitialised: 0,
      dropped: 0,
      digest: before.digest,
    });
    expect((await training(page)).canResume).toBe(true);

    // A graph with errors cannot train, and keeps the trained weights for when it compiles again.
    await page.getByTestId('train-toggle').click();
    await node(page, 'layers_up.1.blocks.0').locator('header').click();
    const heads = page.locator('mam-inspector input[data-param="heads"]');
    await heads.fill('5'); // 64 channels are not divisible by 5 heads
    await heads.press('Enter');
    await settle(page);
    await page.getByTestId('train-toggle').click();
    await expect.poll(async () => (await training(page)).compiled).toBe('errors');
    await expect
      .poll(async () =>
        (await byId(page, 'train-graph-errors').textContent())?.replace(/\s+/g, ' '),
      )
      .toMatch(/training is off until it is fixed\. The trained weights are kept/);
    expect(await byId(page, 'train-start').isDisabled()).toBe(true);
    await byId(page, 'train-graph-errors').scrollIntoViewIfNeeded();
    await session.screenshot('editor-train-graph-errors');
    await page.getByTestId('undo').click();
    await expect.poll(async () => (await training(page)).compiled).toBe('ok');
    expect((await training(page)).weights).toMatchObject({
      kept: before.tensors,
      digest: before.digest,
    });

    const wait = page.waitForEvent('download');
    await byId(page, 'weights-export').click();
    const file = join(FILES, 'demo.safetensors');
    await (await wait).saveAs(file);

    // A file that is not weights is refused and changes nothing.
    const bad = join(FILES, 'not-weights.safetensors');
    writeFileSync(bad, '{"this is": "not a safetensors file"}');
    let chooser = page.waitForEvent('filechooser');
    await byId(page, 'weights-import').click();
    await (await chooser).setFiles(bad);
    await expect
      .poll(() => byId(page, 'weights-notice').textContent())
      .toMatch(/Import refused: .*nothing changed/);
    expect((await training(page)).weights!.digest).toBe(before.digest);

    await byId(page, 'weights-reinit').click({ trial: true }); // present and enabled
    chooser = page.waitForEvent('filechooser');
    await byId(page, 'weights-import').click();
    await (await chooser).setFiles(file);
    await expect
      .poll(() => byId(page, 'weights-notice').textContent())
      .toMatch(new RegExp(`Loaded ${before.tensors} weights from demo.safetensors`));
    expect((await training(page)).weights!.digest).toBe(before.digest);
    await byId(page, 'weights-notice').scrollIntoViewIfNeeded();
    await expect.poll(() => page.getByTestId('toast').count(), { timeout: 10_000 }).toBe(0);
    await session.screenshot('editor-train-weights');
  });
});
