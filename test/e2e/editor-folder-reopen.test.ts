// A run trained on a folder opened through the File System Access picker
// keeps the folder's handle: after a reload the Train drawer offers "Reopen
// <folder>", which asks to read it again and resumes on it; the same folder
// with other contents is refused (the data fingerprint differs). The native
// picker is a dialog a test cannot answer, so the page's showDirectoryPicker
// hands over a real FileSystemDirectoryHandle of the origin-private file
// system, holding a NIfTI folder nibabel wrote; everything after it (keeping
// the handle in IndexedDB, requestPermission, walking the folder) is the
// browser's own.
import { readdirSync, readFileSync, statSync } from 'node:fs';
import { join, relative } from 'node:path';
import type { Page } from 'playwright-core';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { repoRoot as ROOT } from '../helpers/mam-cli.ts';
import { openBrowser, type BrowserSession } from './browser.ts';
import { hasPython, niftiFolder } from './data-fixtures.ts';
import {
  byId,
  freshTraining,
  openTrain,
  reloadAfterScansRun,
  reloadTrain,
  training,
} from './train-helpers.ts';

const FILES = join(ROOT, 'test-results', 'e2e-folder-reopen');

/** Every file under `dir`, by its path relative to dir's parent ("scans/images/a.nii.gz"). */
function filesUnder(dir: string, top = join(dir, '..')): { path: string; bytes: number[] }[] {
  return readdirSync(dir).flatMap((name) => {
    const p = join(dir, name);
    return statSync(p).isDirectory()
      ? filesUnder(p, top)
      : [{ path: relative(top, p), bytes: [...readFileSync(p)] }];
  });
}

/** Writes the files into the page's origin-private file system under picked/ (emptied first). */
async function writePicked(page: Page, files: { path: string; bytes: number[] }[]) {
  await page.evaluate(async (files) => {
    const root = await navigator.storage.getDirectory();
    await root.removeEntry('picked', { recursive: true }).catch(() => {});
    for (const f of files) {
      let dir = await root.getDirectoryHandle('picked', { create: true });
      const parts = f.path.split('/');
      for (const p of parts.slice(0, -1)) dir = await dir.getDirectoryHandle(p, { create: true });
      const w = await (await dir.getFileHandle(parts.at(-1)!, { create: true })).createWritable();
      await w.write(new Uint8Array(f.bytes));
      await w.close();
    }
  }, files);
}

/** Waits for the Train drawer to offer "Reopen scans". */
const reopenOffered = (page: Page) =>
  expect
    .poll(() =>
      byId(page, 'data-reopen')
        .textContent()
        .catch(() => ''),
    )
    .toMatch(/^\s*Reopen scans\s*$/);

describe('a folder opened with the picker, after a reload', () => {
  let session: BrowserSession;

  beforeAll(async () => {
    session = await openBrowser('/');
    // The picker answers picked/scans of the origin-private file system.
    await session.page.addInitScript(() => {
      (window as { showDirectoryPicker?: unknown }).showDirectoryPicker = async () =>
        (
          await (await navigator.storage.getDirectory()).getDirectoryHandle('picked')
        ).getDirectoryHandle('scans');
    });
  });
  afterAll(async () => {
    await session?.close();
  });

  it.skipIf(!hasPython && process.env.CI !== 'true')(
    'offers Reopen <folder>, which reads the kept folder again and resumes on it; other contents under that name are refused',
    async () => {
      const { page, baseUrl } = session;
      const { dir } = niftiFolder(FILES, 'scans');
      const files = filesUnder(dir);
      await freshTraining(page, baseUrl);
      await page.evaluate(
        () =>
          new Promise<void>((resolve) => {
            const req = indexedDB.deleteDatabase('mam-studio-folders');
            req.onsuccess = req.onerror = req.onblocked = () => resolve();
          }),
      );
      await writePicked(page, files);
      await openTrain(page);
      await byId(page, 'data-open').click();
      const before = await reloadAfterScansRun(page);
      await reopenOffered(page);
      await byId(page, 'data-reopen').click();
      await expect
        .poll(async () => (await training(page)).canResume, { timeout: 60_000 })
        .toBe(true);
      expect(await byId(page, 'data-info').textContent()).toMatch(
        /NIfTI folder scans: 6 training slices/,
      );
      expect(await byId(page, 'train-notice').count()).toBe(0);
      expect(await byId(page, 'data-reopen').count()).toBe(0);
      await expect.poll(() => byId(page, 'train-start').textContent()).toMatch(/Resume/);

      // The folder changed since (case01's and case02's images swapped, the same sizes):
      // read again, it is not the data the run trained on.
      const image = (id: string) => files.find((f) => f.path === `scans/images/${id}.nii.gz`)!;
      const [one, two] = [image('case01'), image('case02')];
      expect(one.bytes).not.toEqual(two.bytes);
      const changed = files.map((f) =>
        f === one ? { ...f, bytes: two.bytes } : f === two ? { ...f, bytes: one.bytes } : f,
      );
      await writePicked(page, changed);
      await reloadTrain(page, before.step);
      await reopenOffered(page);
      await byId(page, 'data-reopen').click();
      await expect
        .poll(async () => ((await byId(page, 'train-notice').textContent()) ?? '').trim(), {
          timeout: 60_000,
        })
        .toBe(
          'This run was trained on NIfTI folder scans, but the folder loaded now under that name holds other data (its files or split differ): Resume is off; a new run trains on it.',
        );
      expect((await training(page)).canResume).toBe(false);
    },
    900_000,
  );
});
