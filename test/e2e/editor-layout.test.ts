// The editor opens the demo (and the largest preset) readable at 1280×800: every node in view at a
// zoom where its text can be read; Fit keeps to the part of the canvas the Train drawer leaves
// uncovered; the minimap is small and sits in the uncovered bottom-right corner.
import { catalogue } from '../../nodes/index.ts';
import { describe, expect, it } from 'vitest';
import { presets } from '../../src/graph/presets.ts';
import {
  boxOf,
  canvasBox,
  editorTests,
  nodesOutsideCanvas,
  nodesUnderMinimap,
  settle,
  zoom,
} from './editor-helpers.ts';

describe('editor layout', () => {
  const t = editorTests({ viewport: { width: 1280, height: 800 } });

  it('opens the demo with every node in view at zoom ≥ 0.45 and a small minimap in the corner', async () => {
    const { page } = t;
    expect(await page.getByTestId('mam-node').count()).toBe(
      presets(catalogue)['demo-mam'].nodes.length,
    );
    await expect.poll(() => nodesOutsideCanvas(page)).toEqual([]);
    expect(await zoom(page)).toBeGreaterThanOrEqual(0.45);
    const c = await canvasBox(page);
    const m = await boxOf(page.getByTestId('minimap'));
    expect(m.width).toBeLessThanOrEqual(170);
    expect(m.height).toBeLessThanOrEqual(120);
    // In the bottom-right corner, inside the canvas.
    expect(m.x).toBeGreaterThan(c.x + c.width / 2);
    expect(m.y).toBeGreaterThan(c.y + c.height / 2);
    expect(m.x + m.width).toBeLessThanOrEqual(c.x + c.width);
    expect(m.y + m.height).toBeLessThanOrEqual(c.y + c.height);
    await t.screenshot();
  });

  // The hybrid CNN + ViT presets (DA-TransUNet, 45 nodes on 12 rows: the
  // ResNet stages, the ViT and the CUP decoder each take rows of their own) fit
  // at a smaller zoom than the Swin family's largest.
  for (const [family, floor, pick] of [
    ['Swin/ViT', 0.3, (n: string) => !n.startsWith('da-')],
    ['DA-TransUNet', 0.25, (n: string) => n.startsWith('da-')],
  ] as const) {
    it(`opens the largest ${family} preset with every node in view at zoom ≥ ${floor}`, async () => {
      const { page } = t;
      const [name, largest] = Object.entries(presets(catalogue))
        .filter(([n]) => pick(n))
        .reduce((a, b) => (b[1].nodes.length > a[1].nodes.length ? b : a));
      await page.getByTestId('presets').selectOption(name);
      await expect.poll(() => page.getByTestId('mam-node').count()).toBe(largest.nodes.length);
      await settle(page);
      await expect.poll(() => nodesOutsideCanvas(page)).toEqual([]);
      expect(await zoom(page)).toBeGreaterThanOrEqual(floor);
      await t.screenshot();
    });
  }

  it('fits every preset with no node under the minimap', async () => {
    const { page } = t;
    for (const [name, doc] of Object.entries(presets(catalogue))) {
      await page.getByTestId('presets').selectOption(name);
      await expect.poll(() => page.getByTestId('mam-node').count()).toBe(doc.nodes.length);
      await settle(page);
      await expect
        .poll(async () => ({ name, outside: await nodesOutsideCanvas(page) }))
        .toEqual({ name, outside: [] });
      expect({ name, under: await nodesUnderMinimap(page) }).toEqual({ name, under: [] });
    }
  });

  it('with the Train drawer open, Fit puts every node and the minimap in the uncovered part', async () => {
    const { page } = t;
    // A view chosen by hand (zoomed in): opening the drawer keeps it.
    await expect.poll(() => nodesOutsideCanvas(page)).toEqual([]);
    const fitted = await zoom(page);
    await page.keyboard.press('+');
    await expect.poll(() => zoom(page)).toBeGreaterThan(fitted);
    await page.getByTestId('train-toggle').click();
    const drawer = page.locator('mam-train-panel');
    await expect.poll(async () => (await drawer.boundingBox())?.width ?? 0).toBeGreaterThan(0);
    const c = await canvasBox(page);
    const d = await boxOf(drawer);
    expect(d.x).toBeGreaterThan(c.x + 100); // it covers the canvas's right part, not all of it
    expect(d.x).toBeLessThan(c.x + c.width);
    const uncovered = { left: c.x, top: c.y, right: d.x, bottom: c.y + c.height };
    // The drawer now hides part of the graph.
    expect((await nodesOutsideCanvas(page, uncovered)).length).toBeGreaterThan(0);
    await page.getByTestId('fit').click();
    await expect.poll(() => nodesOutsideCanvas(page, uncovered)).toEqual([]);
    const m = await boxOf(page.getByTestId('minimap'));
    expect(m.x + m.width).toBeLessThanOrEqual(d.x);
    expect(m.y + m.height).toBeLessThanOrEqual(c.y + c.height);
    await t.screenshot();
    // Closed again, the minimap goes back to the canvas's corner.
    await page.getByTestId('train-toggle').click();
    await expect
      .poll(async () => {
        const b = await boxOf(page.getByTestId('minimap'));
        return b.x + b.width > d.x;
      })
      .toBe(true);
  });
});
