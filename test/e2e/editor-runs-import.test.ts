// Run folders and zips imported into the runs list, as a user imports them:
// the same zip imported twice is kept twice, never one over the other; a run
// mam_torch trained opens, evaluates, exports and starts a new run from its
// weights, while Resume (which cannot repeat its random draws) says why not.
import { mkdirSync, readdirSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { join, relative } from 'node:path';
import { zipSync } from 'fflate';
import type { Page } from 'playwright-core';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { repoRoot as ROOT } from '../helpers/mam-cli.ts';
import { openBrowser, type BrowserSession } from './browser.ts';
import { interruptedCliRun } from './cli-runs.ts';
import { RNG_SCHEME, TORCH_RNG_SCHEME } from '../../src/train/checkpoint.ts';
import { byId, freshTraining, openTrain, panel, setUpRun, training } from './train-helpers.ts';

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

  /** A fresh editor with the Train drawer open, and a run folder `mam train` wrote, named `name`. */
  async function freshWithCliRun(name: string) {
    const { page, baseUrl } = session;
    await freshTraining(page, baseUrl);
    await openTrain(page);
    const folder = join(FILES, name);
    return { page, folder, ...(await interruptedCliRun(folder)) };
  }

  it('keeps both runs when one zip is imported twice: the second under a new id, named “… (2)”', async () => {
    const { page, folder, step } = await freshWithCliRun('twice');
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
      .toMatch(/Imported the run twice \(2\) \(\d+ steps\): open it to resume or evaluate it\./);
    const [a, b] = await runs(page);
    expect(a.id).not.toBe(b.id);
    await expect
      .poll(() => row(page, b.id).getByTestId('run-open').getAttribute('title'))
      .toBe('Open it to resume or evaluate it');
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

  it('a run mam_torch trained: Resume is disabled with the reason shown; it opens, evaluates, exports, and New run trains on from its weights', async () => {
    const { page, folder, step, stateFile } = await freshWithCliRun('torch-run');
    // The folder as mam_torch writes it: our format, its own random draws (torch-train.test.ts).
    const state = readFileSync(stateFile, 'utf8');
    expect(state).toContain(RNG_SCHEME);
    writeFileSync(stateFile, state.replace(RNG_SCHEME, TORCH_RNG_SCHEME));

    await importRun(page, folder, true);
    await expect.poll(() => named(page, 'steps')).toEqual([['torch-run', step]]);
    // what opening it allows, not "resume": in the notice and on the Open button
    const allows =
      'trained by mam_torch (PyTorch), it cannot be resumed here: open it to evaluate, export or train a new run from its weights';
    await expect
      .poll(() => panel(page).getByTestId('train-notice').textContent())
      .toContain(`Imported the run torch-run (${step} steps): ${allows}.`);
    const id = (await runs(page))[0].id;
    await expect
      .poll(() => row(page, id).getByTestId('run-open').getAttribute('title'))
      .toBe(`T${allows.slice(1)}`);
    await row(page, id).getByTestId('run-open').click();
    await expect.poll(async () => (await training(page)).step).toBe(step);

    const refusal =
      'This run was trained by mam_torch (PyTorch), whose random draws the editor cannot repeat, so Resume cannot continue it step for step: resume it with python -m mam_torch.train … --resume, or start a new run from its weights here (New run).';
    await expect
      .poll(async () => (await byId(page, 'resume-refusal').textContent())?.trim())
      .toBe(refusal);
    const resume = byId(page, 'train-start');
    expect((await resume.textContent())?.trim()).toBe('Resume');
    expect(await resume.getAttribute('title')).toBe(refusal);
    await expect.poll(() => byId(page, 'train-new-run').isEnabled()).toBe(true);
    expect(await resume.isDisabled()).toBe(true);
    expect((await training(page)).canResume).toBe(false);

    // Nothing is lost: it evaluates, and exports as a zip.
    const evaluations = (await training(page)).evaluations;
    await byId(page, 'eval-run').click();
    await expect
      .poll(async () => (await training(page)).evaluations, { timeout: 120_000 })
      .toBe(evaluations + 1);
    expect((await training(page)).evaluation?.convention).toBe('synapse');
    const downloaded = page.waitForEvent('download', { timeout: 180_000 });
    await row(page, 'current').getByTestId('run-export').click();
    expect((await downloaded).suggestedFilename()).toBe('torch-run.zip');

    // New run: a fresh schedule of 2 steps from the run's weights, kept; the refusal goes.
    await setUpRun(page, 2, 2);
    await byId(page, 'train-new-run').click();
    await expect
      .poll(
        async () => {
          const t = await training(page);
          return !t.running && t.step === step + 2 && t.saved?.step === step + 2;
        },
        { timeout: 300_000 },
      )
      .toBe(true);
    expect(await byId(page, 'resume-refusal').count()).toBe(0);
    expect((await training(page)).weights!.origin).toBe(`trained ${step + 2} steps`);
  });

  it('compares two runs with each run’s Dice and HD95 side by side under its name, numbers right-aligned, the class column sticky', async () => {
    const { page, folder, stateFile } = await freshWithCliRun('cmp');
    await importRun(page, folder, true);
    await expect.poll(async () => (await runs(page)).length).toBe(1);
    await importRun(page, folder, true);
    await expect.poll(async () => (await runs(page)).length).toBe(2);
    for (const r of await runs(page)) await row(page, r.id).getByTestId('run-select').check();
    await runsList(page).getByTestId('runs-compare').click();
    const view = panel(page).locator('mam-compare-view');
    const table = view.getByTestId('compare-table');
    await expect.poll(() => table.count()).toBe(1);
    const ids = await table
      .locator('thead tr')
      .first()
      .locator('th[data-run]')
      .evaluateAll((ths) => ths.map((th) => th.getAttribute('data-run')!));
    expect(ids).toHaveLength(2);
    expect((await table.locator('thead th.class').textContent())?.trim()).toBe('Class');
    // The second header row and every body row: run 1's Dice, HD95, then run 2's.
    const order = ids.flatMap((id) => [`${id} dice`, `${id} hd95`]);
    const columns = (l: ReturnType<typeof table.locator>) =>
      l.evaluateAll((cells) =>
        cells.map((c) => `${c.getAttribute('data-run')} ${c.getAttribute('data-metric')}`),
      );
    expect(await columns(table.locator('thead tr').nth(1).locator('th'))).toEqual(order);
    expect(
      (await table.locator('thead tr').nth(1).locator('th').allTextContents()).map((t) => t.trim()),
    ).toEqual(['Dice', 'HD95', 'Dice', 'HD95']);
    // The numbers are the last validation mam train wrote (state.json), Dice to 3 places, HD95 to 1.
    const last = (
      JSON.parse(readFileSync(stateFile, 'utf8')) as {
        lastValidation: {
          meanDice: number;
          meanHd95: number;
          perClass: Record<string, { dice: number; hd95: number }>;
        };
      }
    ).lastValidation;
    const fmt = (x: number, d: number) => (Number.isFinite(x) ? x.toFixed(d) : '–');
    const rows = Object.entries(last.perClass).map(([name, c]) => [name, c.dice, c.hd95] as const);
    rows.push(['mean', last.meanDice, last.meanHd95]);
    expect(await table.locator('tbody tr').count()).toBe(rows.length);
    for (const [name, dice, hd95] of rows) {
      const cells = table.locator(`tbody tr[data-class="${name}"] td`);
      expect(await columns(cells.locator('xpath=self::td[@data-run]'))).toEqual(order);
      const want = [name, fmt(dice, 3), fmt(hd95, 1), fmt(dice, 3), fmt(hd95, 1)];
      expect((await cells.allTextContents()).map((t) => t.trim())).toEqual(want);
    }
    // Right-aligned numbers under right-aligned headers; the class column stays put.
    const style = (l: ReturnType<typeof table.locator>, prop: 'textAlign' | 'position') =>
      l.evaluate((el, p) => getComputedStyle(el)[p], prop);
    expect(await style(table.locator('thead th[data-metric="hd95"]').first(), 'textAlign')).toBe(
      'right',
    );
    expect(await style(table.locator('tbody td[data-metric="dice"]').first(), 'textAlign')).toBe(
      'right',
    );
    expect(await style(table.locator('tbody td.class').first(), 'position')).toBe('sticky');
    await table.scrollIntoViewIfNeeded();
    await page.screenshot({ path: join(FILES, 'compare-table.png') });
  });
});
