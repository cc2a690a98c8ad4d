// The Ablation and Maps views driven as a user drives them, each test from a
// fresh page with the demo graph: an ablation of SAM vs ISTS (1 seed, a few
// steps) queued in its worker with progress, its table (params and FLOPs as
// MAM-SPEC counts the demo preset), overlaid curves, a variant opened as the
// graph and the table exported; a pixel clicked in the Maps view.
import { mkdirSync, readFileSync } from 'node:fs';
import { join, resolve } from 'node:path';
import { describe, expect, it } from 'vitest';
import type { Locator } from 'playwright-core';
import { doc, editorTests, menuItem } from './editor-helpers.ts';

/** An element's text with its whitespace folded (templates wrap lines). */
const text = async (l: Locator) => ((await l.textContent()) ?? '').replace(/\s+/g, ' ').trim();

const FILES = resolve(import.meta.dirname, '../../test-results/e2e-analysis');

describe('Ablation view', () => {
  const t = editorTests();

  it('runs SAM and ISTS in the worker with progress; table, curves, open a variant, export', async () => {
    const page = t.page;
    mkdirSync(FILES, { recursive: true });
    await page.getByTestId('ablation').click();
    const view = page.getByTestId('ablation-view');
    await view.getByTestId('variant-sts-enc').uncheck();
    await view.getByTestId('ablation-steps').fill('2');
    await view.getByTestId('ablation-steps').dispatchEvent('change');
    await view.getByTestId('ablation-run').click();
    await expect
      .poll(() => text(view.getByTestId('ablation-progress')), { timeout: 120_000 })
      .toMatch(/run 1\/2: sam, seed 0/);
    const dsc = (key: string) => text(view.locator(`tr[data-key="${key}"] td`).nth(5));
    await expect
      .poll(() => dsc('ists-enc.window'), { timeout: 600_000 })
      .toMatch(/^\d+\.\d\d ± 0\.00$/);
    expect(await dsc('sam')).toMatch(/^\d+\.\d\d ± 0\.00$/);
    await expect.poll(() => text(view.getByTestId('ablation-progress'))).toBe('done');
    // The demo preset: 760,104 params, 159,907,840 Linear/Conv MACs (README's preset table); ISTS adds none.
    const cells = async (key: string) =>
      (await view.locator(`tr[data-key="${key}"] td`).allTextContents()).map((c) =>
        c.replace(/\s+/g, ' ').trim(),
      );
    expect((await cells('sam')).slice(0, 5)).toEqual(['Baseline (SAM)', '–', '–', '0.76', '0.16']);
    expect((await cells('ists-enc.window')).slice(0, 5)).toEqual([
      'Model 5-3 (ISTS)',
      '✓',
      '–',
      '0.76',
      '0.16',
    ]);
    expect(await view.getByTestId('ablation-curves').locator('polyline').count()).toBe(2);

    const wait = page.waitForEvent('download', { timeout: 180_000 });
    await view.getByTestId('ablation-md').click();
    const path = join(FILES, 'ablation.md');
    await (await wait).saveAs(path);
    expect(readFileSync(path, 'utf8')).toMatch(
      /\| Model 5-3 \(ISTS\) \| ✓ \| – \| 0\.76 \| 0\.16 \| \d+\.\d\d ± 0\.00 \|/,
    );

    // Open the SAM variant: the demo's MAM units become SAM blocks.
    await view.getByTestId('open-sam').click();
    await expect
      .poll(async () => (await doc(page)).nodes.filter((n) => n.type === 'mam-swin-block').length)
      .toBe(0);
    expect((await doc(page)).nodes.filter((n) => n.type === 'swin-block').length).toBe(10);
  }, 900_000);
});

describe('Maps view', () => {
  const t = editorTests();

  it('shows every unit of the demo graph for the clicked pixel', async () => {
    const page = t.page;
    await page.getByTestId('maps').click();
    const view = page.getByTestId('maps-view');
    await expect
      .poll(() => text(view.getByTestId('maps-pixel')).catch(() => ''), { timeout: 300_000 })
      .toMatch(/^pixel 64, 64 of slice 10 \(10 units\)/);
    expect(await text(view.getByTestId('maps-status'))).toMatch(/initialisation/);
    // A click a quarter across and down the 256-pixel canvas is pixel (32, 32) of the 128×128 slice.
    const box = (await view.getByTestId('maps-image').boundingBox())!;
    await page.mouse.click(box.x + box.width / 4 + 0.5, box.y + box.height / 4 + 0.5);
    await expect
      .poll(() => text(view.getByTestId('maps-pixel')), { timeout: 120_000 })
      .toMatch(/^pixel 32, 32 of slice 10/);
    // Token (8, 8) of 32×32 under shift 2 rolls to (6, 6): window 1·8 + 1 = 9, slot 2·4 + 2 = 10.
    expect(await text(view.locator('[data-unit="layers.0.blocks.1"] div').first())).toMatch(
      /window 9, slot 10\)$/,
    );
    // MAM units with memory in show four maps, the first of a chain two, SAM blocks one.
    expect(await view.locator('[data-unit="layers.0.blocks.1"] canvas').count()).toBe(4);
    expect(await view.locator('[data-unit="layers.0.blocks.0"] canvas').count()).toBe(2);
    expect(await view.locator('[data-unit="layers_up.1.blocks.0"] canvas').count()).toBe(1);
  }, 600_000);

  it('follows the graph: converted to SAM while the view is open, it shows the SAM graph’s maps', async () => {
    const page = t.page;
    await page.getByTestId('maps').click();
    const view = page.getByTestId('maps-view');
    const unit = view.locator('[data-unit="layers.0.blocks.1"]');
    const header = () => text(unit.locator('div').first()).catch(() => '');
    await expect
      .poll(header, { timeout: 300_000 })
      .toMatch(/^layers\.0\.blocks\.1 \(mam-swin-block,/);
    // A MAM unit with memory in: attention, without memory, difference and ‖m‖.
    expect(await unit.locator('canvas').count()).toBe(4);
    // Without a selection the Convert menu offers the whole network.
    await page.getByTestId('convert-menu').click();
    await menuItem(page, 'Convert the network to SAM');
    expect((await doc(page)).nodes.filter((n) => n.type === 'mam-swin-block')).toEqual([]);
    // The open view computes again for the graph as it is now: a SAM block has attention only.
    await expect.poll(header, { timeout: 300_000 }).toMatch(/^layers\.0\.blocks\.1 \(swin-block,/);
    expect(await unit.locator('canvas').count()).toBe(1);
    expect(await text(view.getByTestId('maps-pixel'))).toMatch(
      /^pixel 64, 64 of slice 10 \(10 units\)/,
    );
    // Undo brings the MAM graph back, and its maps with it.
    await page.getByTestId('undo').click();
    await expect
      .poll(header, { timeout: 300_000 })
      .toMatch(/^layers\.0\.blocks\.1 \(mam-swin-block,/);
    expect(await unit.locator('canvas').count()).toBe(4);
  }, 900_000);

  it('a volume graph: Maps and Ablation are disabled, saying they are 2D-only; an open Ablation or Maps view says so instead of running', async () => {
    const page = t.page;
    await page.getByTestId('ablation').click();
    const view = page.getByTestId('ablation-view');
    await expect.poll(() => view.getByTestId('ablation-run').isEnabled()).toBe(true);
    // The SwinUNETR-MAM demo preset takes 64³ volumes (presets/swinunetr-mam-demo.json).
    await page.getByTestId('presets').selectOption('swinunetr-mam-demo');
    const tail =
      ": this graph's input (input) is a 64×64×64 volume, and the view runs on the 2D demo slices";
    await expect
      .poll(() => text(view.getByTestId('ablation-refusal')))
      .toBe(`Ablation is 2D-only for now${tail}`);
    expect(await view.getByTestId('ablation-run').isDisabled()).toBe(true);
    for (const [id, words] of [
      ['maps', 'Maps are'],
      ['ablation', 'Ablation is'],
    ]) {
      const button = page.getByTestId(id);
      expect(await button.isDisabled()).toBe(true);
      expect(await button.getAttribute('title')).toBe(`${words} 2D-only for now${tail}`);
    }
    // A 2D graph again: both serve it; the Maps view, left open, says why when a volume graph comes.
    await page.getByTestId('presets').selectOption('demo-mam');
    await expect.poll(() => page.getByTestId('maps').isEnabled()).toBe(true);
    await page.getByTestId('maps').click();
    const maps = page.getByTestId('maps-view');
    await expect.poll(() => text(maps.getByTestId('maps-status'))).toMatch(/^loading|^weights/);
    await page.getByTestId('presets').selectOption('swinunetr-mam-demo');
    await expect
      .poll(() => text(maps.getByTestId('maps-status')))
      .toBe(`Maps are 2D-only for now${tail}`);
    expect(await maps.getByTestId('maps-image').count()).toBe(0);
    await page.getByTestId('presets').selectOption('demo-mam');
    await expect.poll(() => page.getByTestId('maps').isEnabled()).toBe(true);
    expect(await page.getByTestId('ablation').isEnabled()).toBe(true);
    expect(await page.getByTestId('maps').getAttribute('title')).toBe(
      'Attention and memory maps of a pixel',
    );
  });
});
