// Your own data in the editor, driven as a user drives it: a NIfTI folder
// written by nibabel opened through the file chooser (<input webkitdirectory>),
// its cases checked against what nibabel says of the files, a few training
// steps on it, a reload (the run comes back but resumes only once its folder
// is open again), and folders that do not fit: a label of another size is
// refused naming the file (the data before is kept, nothing trains), and
// labels outside the graph's classes turn training off.
import { execFileSync } from 'node:child_process';
import { mkdirSync } from 'node:fs';
import { join } from 'node:path';
import type { Page } from 'playwright-core';
import { beforeAll, describe, expect, it } from 'vitest';
import { hasPython, niftiFolder as niftiFolderIn, PYTHON, ROOT } from './data-fixtures.ts';
import {
  byId,
  chooserBrowser,
  fill,
  freshTraining,
  openFolder,
  openTrain,
  panel,
  reloadTrain,
  stopRun,
  trainPastCheckpoint,
  training,
} from './train-helpers.ts';

const FILES = join(ROOT, 'test-results', 'e2e-data');
const niftiFolder = (name: string, ...flags: string[]) => niftiFolderIn(FILES, name, ...flags);

const dataPanel = (page: Page) => panel(page).locator('mam-data-panel');

/** The class table test/python/data_folder_fixtures.py writes (CLASS_NAMES, 8 classes). */
const FIXTURE_CLASSES = [
  'background',
  'frontal',
  'limbic',
  'occipital',
  'parietal',
  'deep grey',
  'temporal',
  'cerebellum',
];

describe.skipIf(!hasPython && process.env.CI !== 'true')('your own data in the editor', () => {
  const browser = chooserBrowser();
  beforeAll(() => mkdirSync(FILES, { recursive: true }));

  it('opens a NIfTI folder, lists its cases as nibabel reads them, trains on it, and resumes it after a reload', async () => {
    const { page, baseUrl } = browser.session;
    const { dir, expected } = niftiFolder('scans');
    await freshTraining(page, baseUrl);
    await openTrain(page);
    await openFolder(page, dir);
    // 3 cases of 3 slices: one validates (20% of 3, rounded), two train.
    await expect
      .poll(() => byId(page, 'data-info').textContent(), { timeout: 60_000 })
      .toMatch(/NIfTI folder scans: 6 training slices, 3 validation,\s+0 test/);
    const rows = dataPanel(page).locator('tr[data-case]');
    expect(await rows.count()).toBe(3);
    for (const [id, e] of Object.entries(expected)) {
      const row = dataPanel(page).locator(`tr[data-case="${id}"]`);
      expect(await row.locator('[data-col="size"]').textContent()).toBe(e.dims.join('×'));
      expect(await row.locator('[data-col="spacing"]').textContent()).toBe(
        `${e.zooms.map((z) => z.toFixed(2)).join(' × ')} mm`,
      );
      expect(await row.locator('[data-col="channels"]').textContent()).toBe('1');
      expect(await row.locator('[data-col="labels"]').textContent()).toBe(e.labelValues.join(', '));
    }
    const [w, h, d] = expected.case01.dims;
    expect(await byId(page, 'data-warnings').textContent()).toContain(
      `resizing ${3 * d} slices of ${h}×${w} stretched to 128×128`,
    );
    expect(await byId(page, 'data-problems').count()).toBe(0);
    // The class table: the folder's 8 names beside the graph's 8 outputs.
    expect(await byId(page, 'data-classes').locator('tbody tr').count()).toBe(8);
    expect(await byId(page, 'data-classes').locator('tbody tr.off').count()).toBe(0);

    const before = await trainPastCheckpoint(page);
    expect(before.canResume).toBe(true);

    // After a reload the run is back, but it resumes only on its own data.
    await reloadTrain(page, before.step);
    expect((await training(page)).canResume).toBe(false);
    await openFolder(page, dir);
    await expect.poll(async () => (await training(page)).canResume, { timeout: 60_000 }).toBe(true);
    await expect.poll(() => byId(page, 'train-start').textContent()).toMatch(/Resume/);
    await byId(page, 'train-start').click();
    await expect
      .poll(async () => (await training(page)).step, { timeout: 180_000 })
      .toBeGreaterThan(before.step);
    await stopRun(page);

    // The case in the slice view, predicted whole and downloaded: nibabel reads it on the input's grid and affine.
    const button = byId(page, 'prediction-download');
    await expect.poll(() => button.count(), { timeout: 60_000 }).toBe(1);
    const caseId = /prediction of (\S+)/.exec((await button.textContent()) ?? '')![1];
    const downloaded = page.waitForEvent('download', { timeout: 180_000 });
    await button.click();
    const file = join(FILES, `${caseId}-prediction.nii.gz`);
    const download = await downloaded;
    expect(download.suggestedFilename()).toBe(`${caseId}-prediction.nii.gz`);
    await download.saveAs(file);
    const read = JSON.parse(
      execFileSync(PYTHON, [join(ROOT, 'test/python/data_nifti_fixtures.py'), 'check', file], {
        encoding: 'utf8',
      }),
    ) as { shape: number[]; affine: number[][]; dtype: string };
    const e = expected[caseId];
    expect(read.shape).toEqual(e.dims);
    expect(read.dtype).toBe('uint8');
    read.affine.forEach((row, i) =>
      row.forEach((v, j) => expect(v).toBeCloseTo(e.affine[i][j], 5)),
    );
  });

  it('refuses a folder whose label has another size, naming the file; the data before stays and nothing trains', async () => {
    const { page, baseUrl } = browser.session;
    const { dir, expected } = niftiFolder('mismatch', '--mismatch', 'case02');
    await freshTraining(page, baseUrl);
    await openTrain(page);
    await openFolder(page, dir);
    const errors = byId(page, 'data-errors');
    await expect.poll(() => errors.count(), { timeout: 60_000 }).toBe(1);
    const text = await errors.textContent();
    expect(text).toContain('mismatch cannot be used: nothing was changed');
    const [w, h, d] = expected.case02.dims;
    expect(text).toContain(`images/case02.nii.gz is ${w}×${h}×${d}`);
    expect(text).toContain(`labels/case02.nii.gz is ${w + 1}×${h}×${d}`);
    expect(await errors.locator('li[data-file="labels/case02.nii.gz"]').count()).toBe(1);
    expect(await byId(page, 'data-info').textContent()).toMatch(/92 training slices/);
    expect(await dataPanel(page).locator('tr[data-case]').count()).toBe(0);
    const t = await training(page);
    expect(t.running).toBe(false);
    expect(t.step).toBe(0);
    expect(t.saves).toBe(0);
  });

  it('a folder with labels outside the graph’s classes shows the problem and training is off', async () => {
    const { page, baseUrl } = browser.session;
    const { dir } = niftiFolder('outside', '--classes', '9', '--label', 'case03=8');
    await freshTraining(page, baseUrl);
    await openTrain(page);
    await openFolder(page, dir);
    const problems = byId(page, 'data-problems');
    await expect.poll(() => problems.count(), { timeout: 60_000 }).toBe(1);
    const text = await problems.textContent();
    expect(text).toMatch(
      /labels\/case03\.nii\.gz holds label 8 .*outside the graph's class table 0–7/,
    );
    expect(text).toMatch(/the data has 9 classes .* but the graph outputs 8/);
    // The ninth class has no graph output beside it.
    expect(await byId(page, 'data-classes').locator('tbody tr.off').count()).toBe(1);
    await fill(page, 'setting-steps', '2');
    expect(await byId(page, 'train-start').isDisabled()).toBe(true);
    expect((await training(page)).step).toBe(0);
  });

  it('renames the graph’s classes in the class table (one undoable edit) and takes the data’s names on a click', async () => {
    const { page, baseUrl } = browser.session;
    const { dir } = niftiFolder('names');
    await freshTraining(page, baseUrl);
    await openTrain(page);
    await openFolder(page, dir);
    const classes = byId(page, 'data-classes');
    await expect.poll(() => classes.locator('tbody tr').count(), { timeout: 60_000 }).toBe(8);
    const graphNames = () =>
      page.evaluate(
        () => window.__mam!.doc.nodes.find((n) => n.type === 'output')!.params.classNames,
      );
    // The fixture writes the demo's own names (test/python/data_folder_fixtures.py).
    expect(await graphNames()).toEqual(FIXTURE_CLASSES);
    expect(await byId(page, 'class-names-adopt').count()).toBe(0);
    const depth = await page.evaluate(() => window.__mam!.undoDepth);

    const occipital = byId(page, 'class-name-3');
    await occipital.fill('occipital lobe');
    await occipital.press('Enter');
    const renamed = FIXTURE_CLASSES.map((n, i) => (i === 3 ? 'occipital lobe' : n));
    await expect.poll(graphNames).toEqual(renamed);
    expect(await page.evaluate(() => window.__mam!.undoDepth)).toBe(depth + 1);
    // The data's names now differ from the graph's: the panel says so and offers them.
    await expect
      .poll(() => byId(page, 'data-warnings').textContent())
      .toMatch(/class names differ between the data .* and the graph .*occipital lobe/);
    await byId(page, 'class-names-adopt').click();
    await expect.poll(graphNames).toEqual(FIXTURE_CLASSES);
    await expect.poll(() => byId(page, 'class-names-adopt').count()).toBe(0);
    // An empty name is not a name: the field goes back, the graph is unchanged.
    await occipital.fill('');
    await occipital.press('Enter');
    await expect.poll(() => occipital.inputValue()).toBe('occipital');
    expect(await graphNames()).toEqual(FIXTURE_CLASSES);
  });

  it('shows the browser storage granted, as the browser estimates it', async () => {
    const { page, baseUrl } = browser.session;
    await freshTraining(page, baseUrl);
    await openTrain(page);
    const quota = await page.evaluate(async () => (await navigator.storage.estimate()).quota!);
    const words =
      quota >= 1e9 ? `${(quota / 1e9).toFixed(1)} GB` : `${(quota / 1e6).toFixed(1)} MB`;
    await expect
      .poll(() => byId(page, 'storage').textContent(), { timeout: 30_000 })
      .toMatch(new RegExp(`Browser storage: [\\d.]+ MB used of\\s+${words.replace('.', '\\.')};`));
  });
});
