// The 3D presets (SwinUNETR, nnFormer, with and without memory) open readable at 1280×800: every
// node in view at zoom ≥ 0.3, no two drawn nodes overlapping, nodes drawn no larger than the
// layout's size model and as large as the unit tests' table says; the palette lists the 3D kinds
// in sections of their own and the inspector shows a volume's shapes with their axes.
import { catalogue } from '../../nodes/index.ts';
import { describe, expect, it } from 'vitest';
import { nodeSize } from '../../src/graph/layout.ts';
import { presets } from '../../src/graph/presets.ts';
import { DRAWN_HEIGHT } from '../unit/drawn-sizes.ts';
import { graphOf } from '../unit/graph-sameness.ts';
import {
  bringIntoView,
  boxOf,
  centre,
  contextMenu,
  doc,
  dragFromPalette,
  editorTests,
  node,
  nodesOutsideCanvas,
  overlappingBoxes,
  renderedBoxes,
  settle,
  zoom,
} from './editor-helpers.ts';
import type { Page } from 'playwright-core';
import type { GraphDoc } from '../../src/graph/types.ts';

const VOLUME_PRESETS = ['swinunetr', 'swinunetr-mam', 'nnformer', 'nnformer-mam'];

const graph = graphOf;

async function openPreset(page: Page, name: string) {
  await page.getByTestId('presets').selectOption(name);
  const count = presets(catalogue)[name].nodes.length;
  await expect.poll(() => page.getByTestId('mam-node').count()).toBe(count);
  await settle(page);
  await expect.poll(async () => (await renderedBoxes(page)).length).toBe(count);
}

describe('3D presets on the canvas', () => {
  const t = editorTests({ viewport: { width: 1280, height: 800 } });

  it.each(VOLUME_PRESETS)(
    '%s opens with every node in view at zoom ≥ 0.3 and no overlaps',
    async (name) => {
      const { page } = t;
      await openPreset(page, name);
      await expect.poll(() => nodesOutsideCanvas(page)).toEqual([]);
      expect(await zoom(page)).toBeGreaterThanOrEqual(0.3);
      const boxes = await renderedBoxes(page);
      for (const b of boxes) {
        const model = nodeSize(b.type, catalogue);
        expect(b.h, b.id).toBeLessThanOrEqual(model.height + 0.5);
        expect(b.w, b.id).toBeLessThanOrEqual(model.width + 0.5);
        // The heights the unit tests' overlap checks assume for the 3D kinds.
        expect(
          Math.abs(b.h - DRAWN_HEIGHT[b.type]),
          `${b.id} (${b.type}) drawn ${b.h}`,
        ).toBeLessThan(1);
      }
      expect(overlappingBoxes(boxes)).toEqual([]);
      await t.screenshot(name);
    },
  );

  it('the palette lists the 3D kinds in 3D sections, apart from the 2D ones', async () => {
    const { page } = t;
    const sections = await page.locator('mam-palette').evaluate((el) =>
      [...el.shadowRoot!.querySelectorAll('h3')].map((h) => {
        const types: string[] = [];
        for (let s = h.nextElementSibling; s && s.tagName !== 'H3'; s = s.nextElementSibling)
          types.push((s as HTMLElement).dataset.type ?? '');
        return { title: h.textContent ?? '', types };
      }),
    );
    const volume = [...catalogue.values()].filter((k) => k.volume).map((k) => k.type);
    expect(volume).toHaveLength(15);
    for (const s of sections) {
      const in3d = s.types.filter((ty) => volume.includes(ty));
      // A section holds only 3D kinds (and says so) or none.
      expect(in3d.length === 0 || in3d.length === s.types.length, s.title).toBe(true);
      expect(s.title.startsWith('3D'), s.title).toBe(in3d.length > 0);
    }
    expect(
      sections
        .flatMap((s) => s.types)
        .filter((ty) => volume.includes(ty))
        .sort(),
    ).toEqual([...volume].sort());
    const attention = sections.find((s) => s.title.startsWith('3D attention'));
    expect(attention?.types).toEqual(['swin3d-block', 'mam-swin3d-block', 'nnformer-kv-block']);
  });

  it('the inspector shows a 3D block’s shapes with their axes and its counts', async () => {
    const { page } = t;
    await openPreset(page, 'swinunetr-mam');
    const id = 'swinViT.layers1.0.blocks.1';
    await bringIntoView(page, id);
    await node(page, id).locator('header').click();
    await expect.poll(() => page.getByTestId('inspector-id').textContent()).toBe(id);
    const rows = () =>
      page
        .locator('mam-inspector')
        .evaluate((el) =>
          Object.fromEntries(
            [...el.shadowRoot!.querySelectorAll('tr')].map((r) => [
              r.cells[0].textContent,
              r.cells[1].textContent,
            ]),
          ),
        );
    // 3D-MAM-SPEC.md §b.1, row 2: [1, 48, 48, 48, 48] in and out, 34,863 parameters.
    await expect.poll(async () => (await rows())['in: in']).toBe('48×48×48×48 (D×H×W×C)');
    const r = await rows();
    expect(r['out: out']).toBe('48×48×48×48 (D×H×W×C)');
    expect(r.parameters).toBe('34,863');
    await bringIntoView(page, 'input');
    await node(page, 'input').locator('header').click();
    await expect.poll(async () => (await rows())['out: out']).toBe('96×96×96×1 (D×H×W×C)');
  });

  it('Convert the encoder to MAM (ISTS) on swinunetr gives swinunetr-mam; dropping a SAM 3D block on a unit swaps it, keeping its links', async () => {
    const { page } = t;
    await openPreset(page, 'swinunetr');
    await contextMenu(page, 'swinViT.layers2.0.blocks.0', 'Convert the encoder to MAM (ISTS)');
    await expect
      .poll(async () => graph(await doc(page)))
      .toEqual(graph(presets(catalogue)['swinunetr-mam']));
    await expect.poll(() => page.getByTestId('chain').count()).toBe(8);

    const id = 'swinViT.layers3.0.blocks.0';
    const before = await doc(page);
    const weights = () =>
      page.evaluate(
        (id) => window.__mam!.analysis.nodes.get(id)!.weights.map((w) => `${w.name}:${w.shape}`),
        id,
      );
    const had = await weights();
    expect(had).toContain('attn.qkv.weight:576,192');
    await bringIntoView(page, id);
    await dragFromPalette(
      page,
      'swin3d-block',
      centre(await boxOf(node(page, id).locator('header'))),
    );
    await expect.poll(() => node(page, id).getAttribute('data-type')).toBe('swin3d-block');
    const after = await doc(page);
    const was = before.nodes.find((n) => n.id === id)!;
    expect(after.nodes.find((n) => n.id === id)!.position).toEqual(was.position);
    // Its token links stay; only the memory link into the next block goes with the memory port.
    const touching = (d: GraphDoc) =>
      graph(d).links.filter((l) => l.split('>').some((end) => end.startsWith(`${id}.`)));
    expect(touching(after)).toEqual(touching(before).filter((l) => !l.includes('.mem')));
    expect(touching(before).filter((l) => l.includes('.mem'))).toEqual([
      `${id}.memOut>swinViT.layers3.0.blocks.1.memIn`,
    ]);
    expect(await weights()).toEqual(had);
    await t.screenshot('swinunetr-swapped');
  });
});
