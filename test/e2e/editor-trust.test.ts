// Document-logic trust on the canvas: a refused edit leaves the document and its history exactly as they were.
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { openBrowser, type BrowserSession } from './browser.ts';
import {
  bringIntoView,
  connect,
  expectToast,
  freshEditor,
  saveText,
  settle,
} from './editor-helpers.ts';
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

  it('raised no uncaught errors in the page', () => {
    expect(session.logs.filter((l) => l.startsWith('[pageerror]'))).toEqual([]);
  });
});
