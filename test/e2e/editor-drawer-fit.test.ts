// Opening or closing the Train drawer re-fits the graph into the part of the canvas it leaves
// uncovered, unless the user has moved the view by hand since the last fit; after each fit the
// minimap, in the uncovered bottom-right corner, lies over no node.
import type { Page } from 'playwright-core';
import { describe, expect, it } from 'vitest';
import { catalogue } from '../../nodes/index.ts';
import { presets } from '../../src/graph/presets.ts';
import {
  boxOf,
  canvasBox,
  doc,
  editorTests,
  nodeRects,
  nodesOutsideCanvas,
  nodesUnderMinimap,
  pan,
  settle,
  zoom,
} from './editor-helpers.ts';

type Area = { left: number; top: number; right: number; bottom: number };

/** The canvas less the open drawer over its right part (screen px). */
async function uncoveredCanvas(page: Page): Promise<Area> {
  const drawer = page.locator('mam-train-panel');
  await expect.poll(async () => (await drawer.boundingBox())?.width ?? 0).toBeGreaterThan(0);
  const c = await canvasBox(page);
  const d = await boxOf(drawer);
  // It covers the canvas's right part, not all of it.
  expect(d.x).toBeGreaterThan(c.x + 100);
  expect(d.x).toBeLessThan(c.x + c.width);
  return { left: c.x, top: c.y, right: d.x, bottom: c.y + c.height };
}

/** The minimap's right edge (screen px): left of the drawer while it is open. */
const minimapRight = async (page: Page) => {
  const m = await boxOf(page.getByTestId('minimap'));
  return m.x + m.width;
};

/**
 * Opens the drawer (or, given the area it left uncovered, closes it) over a view the user
 * chose, and checks the view stays: the same zoom, every node where it was.
 */
async function toggleKeepingView(page: Page, opened?: Area): Promise<Area> {
  const before = await nodeRects(page);
  const k = await zoom(page);
  await page.getByTestId('train-toggle').click();
  const uncovered = opened ?? (await uncoveredCanvas(page));
  // The toggle has been handled once the minimap has moved to the other side of the drawer's edge.
  await expect.poll(async () => (await minimapRight(page)) <= uncovered.right).toBe(!opened);
  await settle(page);
  expect(await zoom(page)).toBe(k);
  expect(await nodeRects(page)).toEqual(before);
  return uncovered;
}

describe('editor drawer fit', () => {
  const t = editorTests({ viewport: { width: 1280, height: 800 } });

  it('re-fits into the uncovered canvas when the drawer opens, and back when it closes', async () => {
    const { page } = t;
    await expect.poll(() => nodesOutsideCanvas(page)).toEqual([]);
    const fullZoom = await zoom(page);
    expect(await nodesUnderMinimap(page)).toEqual([]);

    await page.getByTestId('train-toggle').click();
    const uncovered = await uncoveredCanvas(page);
    await expect.poll(() => nodesOutsideCanvas(page, uncovered)).toEqual([]);
    // Narrower room: a smaller zoom than the whole canvas's fit.
    expect(await zoom(page)).toBeLessThan(fullZoom);
    await expect.poll(() => minimapRight(page)).toBeLessThanOrEqual(uncovered.right);
    expect(await nodesUnderMinimap(page)).toEqual([]);
    await t.screenshot('drawer-open');

    // Closed with the drawer's own ×: the whole canvas again, at the first fit's zoom.
    await page.locator('mam-train-panel').locator('button.close').click();
    await expect.poll(() => page.locator('mam-train-panel').boundingBox()).toBeNull();
    await expect.poll(() => zoom(page)).toBeCloseTo(fullZoom, 6);
    await expect.poll(() => nodesOutsideCanvas(page)).toEqual([]);
    await expect.poll(() => minimapRight(page)).toBeGreaterThan(uncovered.right);
    expect(await nodesUnderMinimap(page)).toEqual([]);
  });

  it('with the drawer open, fits every preset left of it and clear of the minimap, at 1280×800 and 1024×768', async () => {
    for (const viewport of [
      { width: 1280, height: 800 },
      { width: 1024, height: 768 },
    ]) {
      const page = await t.open({ viewport });
      await page.getByTestId('train-toggle').click();
      const uncovered = await uncoveredCanvas(page);
      for (const [name, preset] of Object.entries(presets(catalogue))) {
        const where = `${name} at ${viewport.width}×${viewport.height}`;
        await page.getByTestId('presets').selectOption(name);
        await expect
          .poll(async () => (await doc(page)).metadata?.title)
          .toBe(preset.metadata?.title);
        await settle(page);
        await expect
          .poll(async () => ({ where, outside: await nodesOutsideCanvas(page, uncovered) }))
          .toEqual({ where, outside: [] });
        expect(await minimapRight(page)).toBeLessThanOrEqual(uncovered.right);
        expect({ where, under: await nodesUnderMinimap(page) }).toEqual({ where, under: [] });
      }
    }
  });

  it('leaves the view alone when the drawer opens after the user panned', async () => {
    const { page } = t;
    await expect.poll(() => nodesOutsideCanvas(page)).toEqual([]);
    await pan(page, 90, 40);
    const uncovered = await toggleKeepingView(page);
    // Some nodes stay behind the drawer: that is the view the user chose.
    expect((await nodesOutsideCanvas(page, uncovered)).length).toBeGreaterThan(0);
    // Closing it leaves the view alone too.
    await toggleKeepingView(page, uncovered);
  });

  it('leaves the view alone when the drawer opens after the user zoomed with a key', async () => {
    const { page } = t;
    await expect.poll(() => nodesOutsideCanvas(page)).toEqual([]);
    const fitted = await zoom(page);
    await page.keyboard.press('-');
    await expect.poll(() => zoom(page)).toBeLessThan(fitted);
    await settle(page);
    const uncovered = await toggleKeepingView(page);

    // Fit by hand with the drawer open: the view is the fit's again, and closing re-fits.
    await page.getByTestId('fit').click();
    await expect.poll(() => nodesOutsideCanvas(page, uncovered)).toEqual([]);
    expect(await nodesUnderMinimap(page)).toEqual([]);
    await page.getByTestId('train-toggle').click();
    await expect.poll(() => zoom(page)).toBeCloseTo(fitted, 6);
    await expect.poll(() => nodesOutsideCanvas(page)).toEqual([]);
  });
});
