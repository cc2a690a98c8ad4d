// The Train drawer as the e2e tests drive it: its state through
// window.__mam.training, its controls through their test ids.
import type { Dialog, Page } from 'playwright-core';
import { afterAll, beforeAll, expect, onTestFinished } from 'vitest';
import { openBrowser, type BrowserSession } from './browser.ts';
import { freshEditor, ready } from './editor-helpers.ts';

export const training = (page: Page) => page.evaluate(() => window.__mam!.training!);
export const panel = (page: Page) => page.locator('mam-train-panel');
export const byId = (page: Page, id: string) => panel(page).getByTestId(id);

export async function fill(page: Page, id: string, value: string) {
  const input = byId(page, id);
  await input.fill(value);
  await input.dispatchEvent('change');
}

/** A fresh editor with no autosave and no stored run (in OPFS, nor one an older version left in IndexedDB). */
export async function freshTraining(page: Page, baseUrl: string) {
  await freshEditor(page, baseUrl);
  await page.evaluate(async () => {
    const root = await navigator.storage.getDirectory();
    await root.removeEntry('mam-studio-runs', { recursive: true }).catch(() => {});
    await new Promise<void>((resolve) => {
      const req = indexedDB.deleteDatabase('mam-studio-runs');
      req.onsuccess = req.onerror = req.onblocked = () => resolve();
    });
  });
}

/** Sets up a run on wasm at batch 2 (without starting it). */
export async function setUpRun(page: Page, steps: number, valEvery: number) {
  await byId(page, 'backend-select').selectOption('wasm');
  await expect
    .poll(() => byId(page, 'backend-info').textContent(), { timeout: 60_000 })
    .toMatch(/^\s*wasm \(WebAssembly/);
  await fill(page, 'setting-batchSize', '2');
  await fill(page, 'setting-steps', String(steps));
  await fill(page, 'setting-valEvery', String(valEvery));
}

/** Starts a run on wasm at batch 2. */
export async function startRun(page: Page, steps: number, valEvery: number) {
  await setUpRun(page, steps, valEvery);
  await byId(page, 'train-start').click();
  await expect.poll(async () => (await training(page)).running, { timeout: 30_000 }).toBe(true);
}

export async function stopRun(page: Page) {
  await byId(page, 'train-stop').click();
  await expect.poll(async () => (await training(page)).running, { timeout: 90_000 }).toBe(false);
}

/** Opens the Train drawer and waits for the data and the compiled graph. */
export async function openTrain(page: Page) {
  await page.getByTestId('train-toggle').click();
  await expect
    .poll(() => byId(page, 'data-info').textContent(), { timeout: 90_000 })
    .toMatch(/92 training slices/);
  await expect.poll(async () => (await training(page)).compiled).toBe('ok');
}

/** Trains 40 steps (validating every 3) past the first checkpoint and stops; resolves once the stopped run is kept. */
export async function trainPastCheckpoint(page: Page) {
  await startRun(page, 40, 3);
  await expect
    .poll(async () => (await training(page)).saved?.step ?? 0, { timeout: 180_000 })
    .toBeGreaterThanOrEqual(3);
  await stopRun(page);
  await expect
    .poll(async () => (await training(page)).saved?.step)
    .toBe((await training(page)).step);
  return training(page);
}

/** Reloads the page, opens the Train drawer and waits for the stored run to come back at `step`. */
export async function reloadTrain(page: Page, step: number) {
  await page.reload();
  await ready(page);
  await openTrain(page);
  await expect.poll(async () => (await training(page)).step, { timeout: 60_000 }).toBe(step);
}
/**
 * With the NIfTI folder `scans` opening: waits for it, trains past a checkpoint, reloads,
 * and waits for the panel to say which folder the run resumes on (the demo is loaded).
 */
export async function reloadAfterScansRun(page: Page) {
  await expect
    .poll(() => byId(page, 'data-info').textContent(), { timeout: 60_000 })
    .toMatch(/NIfTI folder scans: 6 training slices/);
  const before = await trainPastCheckpoint(page);
  await reloadTrain(page, before.step);
  await expect
    .poll(() => byId(page, 'train-notice').textContent())
    .toMatch(
      /This run was trained on NIfTI folder scans: open that folder again to resume it \(demo: .* is loaded now; a new run trains on it\)\./,
    );
  expect((await training(page)).canResume).toBe(false);
  return before;
}

/** Records the page's dialogs until the test ends (accepting them, so a navigation goes on). */
export function dialogsOf(page: Page): string[] {
  const seen: string[] = [];
  const onDialog = (d: Dialog) => {
    seen.push(d.type());
    void d.accept();
  };
  page.on('dialog', onDialog);
  onTestFinished(() => void page.off('dialog', onDialog));
  return seen;
}

/**
 * One browser for the tests of the enclosing describe, whose folder picker is the file chooser
 * (<input webkitdirectory>): the File System Access picker is a native dialog a test cannot answer.
 */
export function chooserBrowser(): { readonly session: BrowserSession } {
  let session: BrowserSession | undefined;
  beforeAll(async () => {
    session = await openBrowser('/');
    await session.page.addInitScript(() => {
      delete (window as { showDirectoryPicker?: unknown }).showDirectoryPicker;
    });
  });
  afterAll(async () => {
    await session?.close();
  });
  return {
    get session() {
      if (!session) throw new Error('no browser: chooserBrowser() opens it before the tests');
      return session;
    },
  };
}

/** Opens a folder in the Train drawer's data panel through the file chooser. */
export async function openFolder(page: Page, dir: string) {
  const chooser = page.waitForEvent('filechooser');
  await byId(page, 'data-open').click();
  await (await chooser).setFiles(dir);
}
