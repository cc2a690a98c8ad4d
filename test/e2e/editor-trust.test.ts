// Document-logic trust on the canvas: a refused edit leaves the document and its history exactly as they were.
import { catalogue } from '../../nodes/index.ts';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { openBrowser, type BrowserSession } from './browser.ts';
import {
  bringIntoView,
  connect,
  contextMenu,
  doc,
  expectToast,
  freshEditor,
  node,
  overlappingBoxes,
  renderedBoxes,
  saveText,
  settle,
} from './editor-helpers.ts';
import { nodeSize } from '../../src/graph/layout.ts';
import type { Page } from 'playwright-core';

const undoDepth = (page: Page) => page.evaluate(() => window.__mam!.undoDepth);

describe('editor trust', () => {
  let session: BrowserSession;

  beforeAll(async () => {
    session = await openBrowser('/');
  });
  afterAll(async () => {
    await session?.close();
  });

  /** Draws `from` → `to` on a fresh demo graph and checks the refusal changed nothing. */
  async function refused(from: [string, string], to: [string, string], toast: RegExp) {
    const { page, baseUrl } = session;
    await freshEditor(page, baseUrl);
    await bringIntoView(page, to[0]);
    await bringIntoView(page, from[0]);
    const before = await saveText(page);
    const depth = await undoDepth(page);
    await connect(page, from, to);
    await expectToast(page, toast);
    await settle(page);
    expect(await saveText(page)).toBe(before);
    expect(await undoDepth(page)).toBe(depth);
    // Inference still sees the intact graph: the image input feeds patch_embed, counts as before.
    expect(await page.evaluate(() => window.__mam!.analysis.params)).toBe(760_104);
    await expect.poll(() => page.getByTestId('total-params').textContent()).toMatch(/760,104/);
  }

  it("a memory output dropped on patch_embed's image input is refused and removes nothing", async () => {
    await refused(
      ['layers.0.blocks.0', 'memOut'],
      ['patch_embed', 'in'],
      /Link refused: .*gives memory, but .* of patch_embed takes image/,
    );
    await session.screenshot();
  });

  it('a self-loop onto an input that is already fed is refused and removes nothing', async () => {
    await refused(
      ['layers.0.blocks.0', 'out'],
      ['layers.0.blocks.0', 'in'],
      /A node cannot feed itself/,
    );
  });

  it('a memory link whose shapes disagree is one problem: one entry in the list, one error in the total', async () => {
    const { page, baseUrl } = session;
    await freshEditor(page, baseUrl);
    await expect.poll(() => page.getByTestId('no-problems').count()).toBe(1);
    await bringIntoView(page, 'layers.1.blocks.0');
    await bringIntoView(page, 'layers.0.blocks.1');
    await connect(page, ['layers.0.blocks.1', 'memOut'], ['layers.1.blocks.0', 'memIn']);
    const items = page.getByTestId('problem-item');
    await expect
      .poll(() => items.allTextContents())
      .toEqual([
        expect.stringMatching(
          /^\s*layers\.1\.blocks\.0 · memory 32×32×32 cannot feed a stage at 16×16×64/,
        ),
      ]);
    await expect
      .poll(() => page.getByTestId('total-errors').textContent())
      .toMatch(/^\s*1 error\s*$/);
  });

  it('"Convert this stage to MAM (STS)" on an ISTS stage says why not and changes nothing', async () => {
    const { page, baseUrl } = session;
    await freshEditor(page, baseUrl);
    const before = await saveText(page);
    const depth = await undoDepth(page);
    await contextMenu(page, 'layers.0.blocks.0', 'Convert this stage to MAM (STS)');
    await expectToast(page, /Cannot convert: .*ISTS by definition.*nothing changed/);
    expect(await saveText(page)).toBe(before);
    expect(await undoDepth(page)).toBe(depth);
    const badges = () => page.getByTestId('chain').allTextContents();
    await expect
      .poll(async () => new Set(await badges()))
      .toEqual(new Set(['ISTS · chain 1', 'ISTS · chain 2', 'ISTS · chain 3']));
  });

  it('a lone MAM unit is labelled as having no memory link, not as a chain', async () => {
    const { page, baseUrl } = session;
    await freshEditor(page, baseUrl);
    await page.getByTestId('presets').selectOption('swin-unet-lite');
    await settle(page);
    await contextMenu(page, 'layers.1.blocks.0', 'Swap to memory-attention (MAM)');
    await expect
      .poll(() => node(page, 'layers.1.blocks.0').getAttribute('data-type'))
      .toBe('mam-swin-block');
    await expect
      .poll(() => node(page, 'layers.1.blocks.0').getByTestId('no-chain').textContent())
      .toBe('MAM · no memory link');
    expect(await node(page, 'layers.1.blocks.0').getByTestId('chain').count()).toBe(0);
    expect(await page.evaluate(() => window.__mam!.analysis.chains.length)).toBe(0);
  });

  it('no two rendered nodes overlap in the largest preset, nor after converting the encoder to STS', async () => {
    const { page, baseUrl } = session;
    await freshEditor(page, baseUrl);
    for (const step of ['swin-unet-mam-sts-encdec', 'swin-unet-lite']) {
      await page.getByTestId('presets').selectOption(step);
      await settle(page);
      if (step === 'swin-unet-lite') {
        await contextMenu(page, 'layers.0.blocks.1', 'Convert the encoder to MAM (STS)');
        await expect
          .poll(() => page.evaluate(() => window.__mam!.analysis.chains.map((c) => c.strategy)))
          .toEqual(['STS']);
      }
      const count = (await doc(page)).nodes.length;
      await expect.poll(async () => (await renderedBoxes(page)).length).toBe(count);
      const boxes = await renderedBoxes(page);
      // The layout's size model is never smaller than what is drawn.
      for (const b of boxes) {
        const model = nodeSize(b.type, catalogue);
        expect(b.w, b.id).toBeLessThanOrEqual(model.width + 0.5);
        expect(b.h, b.id).toBeLessThanOrEqual(model.height + 0.5);
      }
      expect(overlappingBoxes(boxes), step).toEqual([]);
    }
    await session.screenshot();
  });

  it('raised no uncaught errors in the page', () => {
    expect(session.logs.filter((l) => l.startsWith('[pageerror]'))).toEqual([]);
  });
});
