// The editor app on a host page that passes its own catalogue (the built-in
// kinds plus a toy 'Gain' kind): the kind is offered in the palette, added,
// inspected, drawn, and survives a share link and a PNG export.
import { mkdirSync } from 'node:fs';
import { join, resolve } from 'node:path';
import type { Page } from 'playwright-core';
import { beforeAll, describe, expect, it } from 'vitest';
import { chooseFile, doc, editorTests, node, ready, saveText, settle } from './editor-helpers.ts';

const PATH = '/test/e2e/host-app/index.html';
const FILES = resolve(import.meta.dirname, '../../test-results/e2e-host-kind');

/** The host page, fresh (no autosave), with a Gain node added from the palette; its id. */
async function withGain(page: Page): Promise<string> {
  await ready(page);
  const item = page.locator('[data-testid="palette-item"][data-type="toy-gain"]');
  await expect.poll(() => item.textContent()).toContain('Gain');
  const before = (await doc(page)).nodes.length;
  await item.scrollIntoViewIfNeeded();
  await item.click();
  await settle(page);
  const nodes = (await doc(page)).nodes;
  expect(nodes).toHaveLength(before + 1);
  const added = nodes.find((n) => n.type === 'toy-gain');
  expect(added).toBeDefined();
  return added!.id;
}

/** The kind the analysis knows a node by (none for a kind it does not know). */
const kindOf = (page: Page, id: string) =>
  page.evaluate((id) => window.__mam!.analysis.nodes.get(id)?.kind?.title, id);

describe('a host kind in the editor app', () => {
  const t = editorTests({ path: PATH });
  beforeAll(() => mkdirSync(FILES, { recursive: true }));

  it('is offered in the palette, added, drawn on the canvas and shown in the inspector', async () => {
    const { page } = t;
    const id = await withGain(page);
    await expect.poll(() => node(page, id).getAttribute('data-type')).toBe('toy-gain');
    expect(await kindOf(page, id)).toBe('Gain');
    await node(page, id).locator('header').click();
    await expect.poll(() => page.evaluate(() => window.__mam!.selected)).toEqual([id]);
    await expect.poll(() => page.getByTestId('inspector-title').textContent()).toBe('Gain');
    expect(await page.locator('mam-inspector .desc').textContent()).toBe(
      'Scales the tokens by a learned factor.',
    );
    await t.screenshot();
  });

  it('survives a share link', async () => {
    const { page } = t;
    const id = await withGain(page);
    const before = await saveText(page);
    await page.getByTestId('share').click();
    const url = await page.getByTestId('share-url').inputValue();
    expect(url).toMatch(/host-app\/index\.html#g=[\w-]+$/);
    await page.goto('about:blank');
    await page.goto(url);
    await ready(page);
    expect(await saveText(page)).toBe(before);
    expect(await kindOf(page, id)).toBe('Gain');
    expect(await page.getByTestId('load-report').count()).toBe(0);
  });

  it('survives a PNG export and reopening it', async () => {
    const { page } = t;
    const id = await withGain(page);
    const before = await saveText(page);
    const wait = page.waitForEvent('download', { timeout: 180_000 });
    await page.getByTestId('export-png').click();
    const path = join(FILES, 'host-kind.png');
    await (await wait).saveAs(path);
    await page.getByTestId('presets').selectOption('swin-unet');
    await settle(page);
    expect(await saveText(page)).not.toBe(before);
    await chooseFile(page, path);
    await expect.poll(() => saveText(page)).toBe(before);
    expect(await kindOf(page, id)).toBe('Gain');
    expect(await page.getByTestId('load-report').count()).toBe(0);
  });
});
