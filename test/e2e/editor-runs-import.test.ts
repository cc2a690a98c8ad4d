// Run folders and zips imported into the runs list, as a user imports them:
// the same zip imported twice is kept twice, never one over the other.
import { mkdirSync, readdirSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { join, relative } from 'node:path';
import { zipSync } from 'fflate';
import type { Page } from 'playwright-core';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { repoRoot as ROOT } from '../helpers/mam-cli.ts';
import { openBrowser, type BrowserSession } from './browser.ts';
import { interruptedCliRun } from './cli-runs.ts';
import { freshTraining, openTrain, panel, training } from './train-helpers.ts';

const FILES = join(ROOT, 'test-results', 'e2e-runs-import');

const runsList = (page: Page) => panel(page).locator('mam-runs-list');
const row = (page: Page, id: string) => runsList(page).locator(`tr[data-run="${id}"]`);
const runs = async (page: Page) => (await training(page))?.runs ?? [];
/** The runs' names with `what` of each, by name (an array's default sort compares "a,b" strings). */
const named = async <K extends 'steps' | 'current'>(page: Page, what: K) =>
  (await runs(page)).map((r) => [r.name, r[what]] as const).sort(([a], [b]) => a.localeCompare(b));

/** A folder's files zipped under one folder of its name, as an exported run is. */
function zipFolder(dir: string, zipFile: string) {
  const entries: Record<string, Uint8Array> = {};
  const name = dir.split('/').pop()!;
  const walk = (d: string) => {
    for (const e of readdirSync(d, { withFileTypes: true })) {
      const p = join(d, e.name);
      if (e.isDirectory()) walk(p);
      else entries[`${name}/${relative(dir, p)}`] = new Uint8Array(readFileSync(p));
    }
  };
  walk(dir);
  writeFileSync(zipFile, zipSync(entries));
}

/** Picks `path` in the runs list's zip or folder chooser. */
async function importRun(page: Page, path: string, folder: boolean) {
  const chooser = page.waitForEvent('filechooser');
  await runsList(page)
    .getByTestId(folder ? 'runs-import-folder' : 'runs-import')
    .click();
  await (await chooser).setFiles(path);
}

describe('importing runs', () => {
  let session: BrowserSession;

  beforeAll(async () => {
    rmSync(FILES, { recursive: true, force: true });
    mkdirSync(FILES, { recursive: true });
    session = await openBrowser('/');
  });
  afterAll(async () => {
    await session?.close();
  });

  it('keeps both runs when one zip is imported twice: the second under a new id, named “… (2)”', async () => {
    const { page, baseUrl } = session;
    await freshTraining(page, baseUrl);
    await openTrain(page);
    const folder = join(FILES, 'twice');
    const { step } = await interruptedCliRun(folder);
    const zipFile = join(FILES, 'twice.zip');
    zipFolder(folder, zipFile);

    await importRun(page, zipFile, false);
    await expect
      .poll(async () => (await runs(page)).map((r) => [r.name, r.steps]))
      .toEqual([['twice', step]]);
    await importRun(page, zipFile, false);
    await expect
      .poll(() => named(page, 'steps'))
      .toEqual([
        ['twice', step],
        ['twice (2)', step],
      ]);
    await expect
      .poll(() => panel(page).getByTestId('train-notice').textContent())
      .toMatch(/Imported the run twice \(2\) \(\d+ steps\)/);
    const [a, b] = await runs(page);
    expect(a.id).not.toBe(b.id);
    expect(await runsList(page).locator('tbody tr').count()).toBe(2);

    // The copy is whole: opened, it brings back the run's steps; the first stays listed.
    const copy = (await runs(page)).find((r) => r.name === 'twice (2)')!;
    await row(page, copy.id).getByTestId('run-open').click();
    await expect.poll(async () => (await training(page)).step).toBe(step);
    await expect
      .poll(() => named(page, 'current'))
      .toEqual([
        ['twice', false],
        ['twice (2)', true],
      ]);
  });
});
