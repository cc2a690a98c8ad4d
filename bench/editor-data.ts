/**
 * `npm run bench -- editor-data`: opening your own data in the editor, in
 * headless Chromium against the dev server. A NIfTI folder of about 100 MB
 * (images/ + labels/, uncompressed float32 images) is picked through the data
 * panel's folder input; measured in the page: the time from the pick until
 * the panel lists the cases (read and indexed in the worker), and the longest
 * main-thread task meanwhile (PerformanceObserver 'longtask': every task over
 * 50 ms is one). Nothing is asserted.
 */
import { mkdirSync, rmSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { openBrowser } from '../test/e2e/browser.ts';
import { freshEditor } from '../test/e2e/editor-helpers.ts';
import { writeNifti } from '../src/data/nifti.ts';
import { writeResult } from './util.ts';

const DIR = join('test-results', 'bench-editor-data');
const CASES = 8;
const DIMS = [256, 256, 48];

/** Writes the folder; returns its size in bytes. */
function writeFolder(): number {
  rmSync(DIR, { recursive: true, force: true });
  mkdirSync(join(DIR, 'images'), { recursive: true });
  mkdirSync(join(DIR, 'labels'), { recursive: true });
  const n = DIMS[0] * DIMS[1] * DIMS[2];
  let bytes = 0;
  for (let k = 0; k < CASES; k++) {
    const image = new Float32Array(n);
    const label = new Uint8Array(n);
    for (let i = 0; i < n; i++) {
      image[i] = ((i * 2654435761 + k) >>> 0) % 1000;
      label[i] = (i >> 12) % 8;
    }
    const id = `case${String(k).padStart(2, '0')}`;
    const img = writeNifti(image, DIMS, { gzip: false });
    const lab = writeNifti(label, DIMS, { gzip: false });
    writeFileSync(join(DIR, 'images', `${id}.nii`), img);
    writeFileSync(join(DIR, 'labels', `${id}.nii`), lab);
    bytes += img.byteLength + lab.byteLength;
  }
  writeFileSync(
    join(DIR, 'classes.json'),
    JSON.stringify(['bg', 'a', 'b', 'c', 'd', 'e', 'f', 'g']),
  );
  return bytes;
}

export async function run() {
  const bytes = writeFolder();
  const session = await openBrowser('/');
  try {
    const { page, baseUrl } = session;
    await page.addInitScript(() => {
      delete (window as { showDirectoryPicker?: unknown }).showDirectoryPicker;
      const w = window as unknown as { __long: PerformanceEntry[] };
      w.__long = [];
      new PerformanceObserver((l) => w.__long.push(...l.getEntries())).observe({
        type: 'longtask',
      });
    });
    await freshEditor(page, baseUrl);
    const panel = page.locator('mam-train-panel');
    await page.getByTestId('train-toggle').click();
    await panel
      .getByTestId('data-info')
      .filter({ hasText: /92 training slices/ })
      .waitFor({ timeout: 120_000 });
    const chooser = page.waitForEvent('filechooser');
    await panel.getByTestId('data-open').click();
    const t0 = await page.evaluate(() => performance.now());
    await (await chooser).setFiles(DIR);
    await panel
      .getByTestId('data-info')
      .filter({ hasText: /NIfTI folder/ })
      .waitFor({ timeout: 600_000 });
    const result = await page.evaluate((start) => {
      const end = performance.now();
      const long = (window as unknown as { __long: PerformanceEntry[] }).__long.filter(
        (e) => e.startTime + e.duration > start && e.startTime < end,
      );
      return {
        readAndIndexMs: end - start,
        longTasks: long.length,
        longestTaskMs: long.reduce((m, e) => Math.max(m, e.duration), 0),
      };
    }, t0);
    const out = { folderBytes: bytes, cases: CASES, dims: DIMS, ...result };
    console.log(
      `editor-data: ${(bytes / 1e6).toFixed(1)} MB NIfTI folder (${CASES} cases of ${DIMS.join('×')}) read and indexed in ${(result.readAndIndexMs / 1000).toFixed(2)} s; ` +
        `${result.longTasks} main-thread tasks over 50 ms, the longest ${result.longestTaskMs.toFixed(0)} ms`,
    );
    writeResult('editor-data', out);
    return out;
  } finally {
    await session.close();
    rmSync(DIR, { recursive: true, force: true });
  }
}

if (import.meta.url === `file://${process.argv[1]}`) await run();
