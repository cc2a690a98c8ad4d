// The runs list of the Train drawer, driven as a user drives it: every run
// kept in the browser is listed; a run stopped halfway, reloaded and resumed
// ends with the very weights of the same run trained straight; runs are
// renamed, compared (curves, per-class table, sizes, graph difference) and
// deleted; a run exported as a zip unzips to a folder `mam eval` opens with
// the editor's metrics; a run folder `mam train` wrote imports and resumes.
import { mkdirSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { dirname, join } from 'node:path';
import { strFromU8, unzipSync } from 'fflate';
import type { Page } from 'playwright-core';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { repoRoot as ROOT, spawnMam } from '../helpers/mam-cli.ts';
import { openBrowser, type BrowserSession } from './browser.ts';
import { ready } from './editor-helpers.ts';
import {
  byId,
  dialogsOf,
  freshTraining,
  openFolder,
  openTrain,
  panel,
  reloadAfterScansRun,
  setUpRun,
  stopRun,
  training,
} from './train-helpers.ts';
import { interruptedCliRun } from './cli-runs.ts';
import { hasPython, niftiFolder } from './data-fixtures.ts';

const FILES = join(ROOT, 'test-results', 'e2e-runs');
const SHOTS = '/tmp/runs-shots';

const runsList = (page: Page) => panel(page).locator('mam-runs-list');
const row = (page: Page, id: string) => runsList(page).locator(`tr[data-run="${id}"]`);
const runs = async (page: Page) => (await training(page))?.runs ?? [];

/** Clicks Start/Resume and waits for the run to end at `step`, kept in the browser. */
async function trainTo(page: Page, step: number) {
  await byId(page, 'train-start').click();
  await expect
    .poll(
      async () => {
        const t = await training(page);
        return !t.running && t.step === step && t.saved?.step === step;
      },
      { timeout: 300_000 },
    )
    .toBe(true);
}

describe('the runs list', () => {
  let session: BrowserSession;

  beforeAll(async () => {
    mkdirSync(SHOTS, { recursive: true });
    rmSync(FILES, { recursive: true, force: true });
    mkdirSync(FILES, { recursive: true });
    session = await openBrowser('/');
  });
  afterAll(async () => {
    await session?.close();
  });

  it('resumes a run stopped and reloaded with the weights of the run trained straight; lists, renames, compares and deletes runs', async () => {
    const { page, baseUrl } = session;
    const dialogs = dialogsOf(page);
    await freshTraining(page, baseUrl);
    await openTrain(page);
    const initial = (await training(page)).weights!.digest;
    await setUpRun(page, 12, 6);
    await trainTo(page, 12);
    const straight = (await training(page)).weights!.digest;
    await expect
      .poll(async () => (await runs(page)).map((r) => [r.current, r.steps]))
      .toEqual([[true, 12]]);

    // Re-initialise: the graph's seeded weights again; the straight run stays in the list.
    await byId(page, 'weights-reinit').click();
    await expect.poll(async () => (await training(page)).weights!.digest).toBe(initial);
    expect(dialogs).toEqual(['confirm']);
    await expect
      .poll(async () => (await runs(page)).map((r) => [r.current, r.steps]))
      .toEqual([[false, 12]]);
    const straightId = (await runs(page))[0].id;

    // The same run again, stopped after a few steps.
    await byId(page, 'train-start').click();
    await expect
      .poll(async () => (await training(page)).step, { timeout: 180_000 })
      .toBeGreaterThanOrEqual(2);
    await stopRun(page);
    const stopped = await training(page);
    expect(stopped.step).toBeLessThan(12);
    await expect.poll(async () => (await training(page)).saved?.step).toBe(stopped.step);

    // Reload: both runs listed; Resume continues the stopped one to the end of its schedule.
    await page.reload();
    await ready(page);
    await openTrain(page);
    await expect
      .poll(async () => (await runs(page)).map((r) => [r.current, r.steps]).sort())
      .toEqual([
        [false, 12],
        [true, stopped.step],
      ]);
    expect(await row(page, 'current').locator('[data-col="steps"]').textContent()).toBe(
      `${stopped.step}/12`,
    );
    await expect.poll(() => byId(page, 'train-start').textContent()).toMatch(/Resume/);
    await trainTo(page, 12);
    expect((await training(page)).weights!.digest).toBe(straight);

    // Rename the straight run in place.
    await row(page, straightId).getByTestId('run-rename').click();
    const input = runsList(page).getByTestId('run-name-input');
    await input.fill('straight twelve');
    await input.press('Enter');
    await expect
      .poll(() => row(page, straightId).locator('[data-col="name"]').textContent())
      .toMatch(/^\s*straight twelve\s*$/);
    await runsList(page).scrollIntoViewIfNeeded();
    await page.screenshot({ path: join(SHOTS, 'runs-list.png') });

    // Compare the two: one colour each, both curves, the per-class table, sizes, no graph difference.
    await row(page, straightId).getByTestId('run-select').check();
    await row(page, 'current').getByTestId('run-select').check();
    await runsList(page).getByTestId('runs-compare').click();
    const view = panel(page).locator('mam-compare-view');
    await expect.poll(() => view.count(), { timeout: 60_000 }).toBe(1);
    const legend = await view.getByTestId('compare-legend').locator('span').allTextContents();
    expect(legend.map((t) => t.trim())).toContain('straight twelve');
    expect(legend).toHaveLength(2);
    expect(await view.getByTestId('compare-loss').locator('path').count()).toBeGreaterThanOrEqual(
      2,
    );
    const conventions = await view.getByTestId('compare-convention').allTextContents();
    expect(conventions).toEqual([
      expect.stringMatching(/^synapse convention, last validation, step 12$/),
      expect.stringMatching(/^synapse convention, last validation, step 12$/),
    ]);
    // The 7 foreground classes of the demo and the mean; both runs end with the same weights, so the same numbers.
    const table = view.getByTestId('compare-table');
    expect(await table.locator('tbody tr').count()).toBe(8);
    const cells = await table.locator('tbody tr[data-class="frontal"] td').allTextContents();
    expect(cells[1]).toBe(cells[3]);
    const params = await page.evaluate(() => window.__mam!.analysis.params);
    const counts = await view
      .getByTestId('compare-counts')
      .locator('[data-col="params"]')
      .allTextContents();
    expect(counts).toEqual([params.toLocaleString('en-US'), params.toLocaleString('en-US')]);
    expect(await view.getByTestId('compare-diff').textContent()).toMatch(/the same graph/);
    await page.screenshot({ path: join(SHOTS, 'compare-view.png') });
    await view.getByTestId('compare-close').click();
    await expect.poll(() => view.count()).toBe(0);

    // Delete the straight run (after a confirm): gone from the list and from the store.
    await row(page, straightId).getByTestId('run-delete').click();
    await expect.poll(async () => (await runs(page)).map((r) => r.id)).toEqual(['current']);
    expect(dialogs).toEqual(['confirm', 'confirm']);
  });

  it('exports a run as a zip that mam eval opens with the editor’s metrics, and imports a run folder mam train wrote, resumable', async () => {
    const { page, baseUrl } = session;
    await freshTraining(page, baseUrl);
    await openTrain(page);
    await setUpRun(page, 3, 3);
    await trainTo(page, 3);
    const saves = (await training(page)).saves;
    await byId(page, 'eval-run').click();
    await expect
      .poll(async () => (await training(page)).evaluation?.convention, { timeout: 120_000 })
      .toBe('synapse');
    await expect.poll(async () => (await training(page)).saves).toBeGreaterThan(saves);
    const editor = (await training(page)).evaluation!;

    const downloaded = page.waitForEvent('download', { timeout: 180_000 });
    await row(page, 'current').getByTestId('run-export').click();
    const download = await downloaded;
    const zipFile = join(FILES, download.suggestedFilename());
    await download.saveAs(zipFile);
    const folder = join(FILES, 'exported');
    const entries = unzipSync(new Uint8Array(readFileSync(zipFile)));
    for (const [name, bytes] of Object.entries(entries)) {
      const file = join(folder, name.split('/').slice(1).join('/'));
      mkdirSync(dirname(file), { recursive: true });
      writeFileSync(file, bytes);
    }
    const metrics = JSON.parse(
      strFromU8(entries[Object.keys(entries).find((n) => n.endsWith('/metrics.json'))!]),
    ) as { test: { summary: { meanDice: number; perClass: Record<string, { dice: number }> } } };
    const evaluated = await spawnMam(
      [
        'eval',
        join(folder, 'graph.json'),
        '--weights',
        join(folder, 'weights.safetensors'),
        '--data',
        'demo',
        '--backend',
        'wasm',
        '--json',
      ],
      ROOT,
    );
    expect(evaluated.code, evaluated.stderr).toBe(0);
    const cli = JSON.parse(evaluated.stdout) as {
      convention: string;
      summary: { meanDice: number; perClass: Record<string, { dice: number }> };
    };
    expect(cli.convention).toBe('synapse');
    expect(Math.abs(cli.summary.meanDice - editor.meanDice)).toBeLessThanOrEqual(1e-6);
    const names = Object.keys(cli.summary.perClass);
    expect(names).toHaveLength(7);
    for (const n of names)
      expect(
        Math.abs(cli.summary.perClass[n].dice - metrics.test.summary.perClass[n].dice),
      ).toBeLessThanOrEqual(1e-6);
    console.log(
      `run zip ${download.suggestedFilename()}: ${Object.keys(entries).length} files; mean Dice editor ${editor.meanDice}, mam eval ${cli.summary.meanDice}`,
    );

    // A run folder mam train wrote, stopped by Ctrl-C after its first checkpoint: imported, it resumes.
    const cliRun = join(FILES, 'cli-run');
    const state = await interruptedCliRun(cliRun);
    const chooser = page.waitForEvent('filechooser');
    await runsList(page).getByTestId('runs-import-folder').click();
    await (await chooser).setFiles(cliRun);
    await expect
      .poll(async () => (await runs(page)).find((r) => !r.current)?.steps, { timeout: 60_000 })
      .toBe(state.step);
    const imported = (await runs(page)).find((r) => !r.current)!;
    expect(imported.name).toBe('cli-run');
    await row(page, imported.id).getByTestId('run-open').click();
    await expect
      .poll(async () => (await training(page)).step, { timeout: 60_000 })
      .toBe(state.step);
    const opened = await training(page);
    expect(opened.lossPoints).toBe(state.step);
    expect(opened.validations).toBeGreaterThanOrEqual(1);
    // Resumable once the worker has the run's data again (its fingerprint is checked): wait for it.
    await expect.poll(async () => (await training(page)).canResume, { timeout: 60_000 }).toBe(true);
    await expect.poll(() => byId(page, 'train-start').textContent()).toMatch(/Resume/);
    await trainTo(page, 8);
  });

  it.skipIf(!hasPython && process.env.CI !== 'true')(
    'after a reload, says which folder the run resumes on (the demo is not shown silently instead), and resumes once it is open',
    async () => {
      const { page, baseUrl } = session;
      // The file chooser path (<input webkitdirectory>): a test cannot answer the native picker.
      await page.addInitScript(() => {
        delete (window as { showDirectoryPicker?: unknown }).showDirectoryPicker;
      });
      const { dir } = niftiFolder(FILES, 'scans');
      await freshTraining(page, baseUrl);
      await openTrain(page);
      await openFolder(page, dir);
      await reloadAfterScansRun(page);
      await openFolder(page, dir);
      await expect
        .poll(async () => (await training(page)).canResume, { timeout: 60_000 })
        .toBe(true);
      expect(await byId(page, 'train-notice').count()).toBe(0);
      await expect.poll(() => byId(page, 'train-start').textContent()).toMatch(/Resume/);
    },
  );
});
