// Files, links and images round trips, driven through the toolbar, the file
// chooser and drops: each must give back the identical graph file text.
import { mkdirSync, readFileSync, writeFileSync } from 'node:fs';
import { join, resolve } from 'node:path';
import type { Page } from 'playwright-core';
import { beforeAll, describe, expect, it } from 'vitest';
import {
  chooseFile,
  contextMenu,
  doc,
  editorTests,
  node,
  ready,
  saveText,
  settle,
} from './editor-helpers.ts';

const FILES = resolve(import.meta.dirname, '../../test-results/e2e-files');

async function downloadFrom(page: Page, testId: string, name: string): Promise<string> {
  const wait = page.waitForEvent('download', { timeout: 180_000 });
  await page.getByTestId(testId).click();
  const dl = await wait;
  const path = join(FILES, name);
  await dl.saveAs(path);
  return path;
}

/** The graph text in the IndexedDB autosave record. */
const autosaved = (page: Page) =>
  page.evaluate(
    () =>
      new Promise<string | undefined>((resolve) => {
        const req = indexedDB.open('mam-studio', 1);
        req.onsuccess = () => {
          try {
            const get = req.result.transaction('autosave').objectStore('autosave').get('current');
            get.onsuccess = () => resolve((get.result as { text?: string } | undefined)?.text);
            get.onerror = () => resolve(undefined);
          } catch {
            resolve(undefined);
          }
        };
        req.onerror = () => resolve(undefined);
      }),
  );

describe('editor files', () => {
  const t = editorTests();

  beforeAll(() => {
    mkdirSync(FILES, { recursive: true });
  });

  it('saves a file, survives a reload (autosave), and opens the file back identically', async () => {
    const { page } = t;
    await contextMenu(page, 'layers.0.blocks.0', 'Convert the encoder to MAM (STS)');
    const before = await saveText(page);
    const path = await downloadFrom(page, 'save', 'saved.json');
    expect(readFileSync(path, 'utf8')).toBe(before);

    await expect.poll(() => autosaved(page)).toBe(before);
    await page.reload();
    await ready(page);
    expect(await saveText(page)).toBe(before);

    await page.getByTestId('new').click();
    await settle(page);
    expect((await doc(page)).nodes).toHaveLength(0);
    await chooseFile(page, path);
    expect(await saveText(page)).toBe(before);
    await t.screenshot();
  });

  it('keeps an edit made just before the page is reloaded, each time', async () => {
    const { page } = t;
    const reloaded = async () => {
      await page.reload();
      await ready(page);
      return saveText(page);
    };
    // A conversion from the context menu, then straight away a reload.
    const header = node(page, 'layers.0.blocks.0').locator('header');
    await header.click({ button: 'right' });
    await page
      .getByTestId('menu-item')
      .filter({ hasText: 'Convert the encoder to MAM (STS)' })
      .click();
    let before = await saveText(page);
    expect(await reloaded()).toBe(before);
    // A parameter committed with Enter.
    await node(page, 'layers.0.blocks.0').locator('header').click();
    const heads = page.locator('mam-inspector input[data-param="heads"]');
    await heads.fill('4');
    await heads.press('Enter');
    await expect
      .poll(
        async () => (await doc(page)).nodes.find((n) => n.id === 'layers.0.blocks.0')?.params.heads,
      )
      .toBe(4);
    before = await saveText(page);
    expect(await reloaded()).toBe(before);
    // A node deleted with the keyboard.
    await node(page, 'layers.0.blocks.0').locator('header').click();
    await expect
      .poll(() => page.evaluate(() => window.__mam!.selected))
      .toEqual(['layers.0.blocks.0']);
    await page.keyboard.press('Delete');
    await expect
      .poll(async () => (await doc(page)).nodes.some((n) => n.id === 'layers.0.blocks.0'))
      .toBe(false);
    before = await saveText(page);
    expect(await reloaded()).toBe(before);
    expect(before).not.toContain('"layers.0.blocks.0"');
  });

  it('shares a link that opens the identical graph when visited', async () => {
    const { page } = t;
    await contextMenu(page, 'layers.1.blocks.0', 'Swap to self-attention (SAM)');
    const before = await saveText(page);
    await page.getByTestId('share').click();
    const url = await page.getByTestId('share-url').inputValue();
    expect(url).toMatch(/#g=[\w-]+$/);
    await page.goto('about:blank');
    await page.goto(url);
    await ready(page);
    expect(await saveText(page)).toBe(before);
    await t.screenshot();
  });

  it('exports a PNG that carries the graph and opens back identically', async () => {
    const { page } = t;
    await contextMenu(page, 'layers.0.blocks.1', 'Convert this stage to SAM');
    const before = await saveText(page);
    const path = await downloadFrom(page, 'export-png', 'graph.png');
    expect([...readFileSync(path).subarray(1, 4)].map((b) => String.fromCharCode(b)).join('')).toBe(
      'PNG',
    );
    await page.getByTestId('presets').selectOption('swin-unet');
    await settle(page);
    expect(await saveText(page)).not.toBe(before);
    await chooseFile(page, path);
    expect(await saveText(page)).toBe(before);
    await t.screenshot();
  });

  it('opens a broken file with what could be loaded and lists what could not; a failed import keeps the graph', async () => {
    const { page } = t;
    const before = await saveText(page);

    const garbage = join(FILES, 'garbage.json');
    writeFileSync(garbage, '{ "format": "mam-studio/graph", "nodes": [ oops');
    await chooseFile(page, garbage);
    await expect
      .poll(() => page.getByTestId('load-report').textContent())
      .toMatch(/Could not open garbage\.json[\s\S]*not valid JSON/);
    expect(await saveText(page)).toBe(before);
    await page.getByTestId('report-close').click();

    const broken = join(FILES, 'broken.json');
    writeFileSync(
      broken,
      JSON.stringify({
        format: 'mam-studio/graph',
        version: 1,
        nodes: [
          {
            id: 'input',
            type: 'image-input',
            position: [0, 0],
            params: { channels: 1, depth: 0, height: 64, width: 64 },
          },
          {
            id: 'embed',
            type: 'patch-embed',
            position: [260, 0],
            params: { patchSize: 4, embedDim: 32, norm: true },
          },
          { id: 'lost', position: [520, 0], params: {} },
          { id: 'mystery', type: 'flux-capacitor', position: [520, 200], params: {} },
        ],
        links: [
          { from: { node: 'input', port: 'out' }, to: { node: 'embed', port: 'in' } },
          { from: { node: 'ghost', port: 'out' }, to: { node: 'embed', port: 'in' } },
        ],
      }),
    );
    // Dropped on the canvas, as from a file manager.
    const data = readFileSync(broken, 'utf8');
    const transfer = await page.evaluateHandle((text) => {
      const dt = new DataTransfer();
      dt.items.add(new File([text], 'broken.json', { type: 'application/json' }));
      return dt;
    }, data);
    await page.getByTestId('canvas').dispatchEvent('dragover', { dataTransfer: transfer });
    await page.getByTestId('canvas').dispatchEvent('drop', { dataTransfer: transfer });
    await settle(page);
    const report = page.getByTestId('load-report');
    await expect.poll(() => report.textContent()).toMatch(/Opened broken\.json with \d+ problems/);
    const text = (await report.textContent()) ?? '';
    expect(text).toMatch(/\$\.nodes\[2\]/);
    expect(text).toMatch(/flux-capacitor/);
    expect(text).toMatch(/ghost/);
    const d = await doc(page);
    expect(d.nodes.map((n) => n.id)).toEqual(['input', 'embed', 'mystery']);
    await t.screenshot();
    // The open is one undo step: the previous graph comes back.
    await page.getByTestId('report-close').click();
    await page.keyboard.press('Control+z');
    await settle(page);
    expect(await saveText(page)).toBe(before);
  });
});
