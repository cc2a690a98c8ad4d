// Opening a data folder from files the user picked (as the editor's worker
// does): a NIfTI folder written by nibabel, read through blobFileSource and
// checked against what nibabel and numpy say of it (grids, voxel sizes, label
// values), and each problem named by its file.
import { mkdtempSync, readFileSync, readdirSync, rmSync, statSync } from 'node:fs';
import { tmpdir } from 'node:os';
import * as path from 'node:path';
import { afterAll, expect } from 'vitest';
import { blobFileSource } from '../../src/data/files.ts';
import { summariseData } from '../../src/session/data-summary.ts';
import { EXIT_CODES } from '../../src/session/errors.ts';
import { DataFolderError, openDataFolder } from '../../src/session/open-data.ts';
import { describeOracle, itOracle, runOracle } from './data-oracle.ts';

interface Expected {
  dims: number[];
  labelDims: number[];
  zooms: number[];
  labelValues: number[];
}

const dirs: string[] = [];
afterAll(() => dirs.forEach((d) => rmSync(d, { recursive: true, force: true })));

/** A folder written by the fixture script, as the browser hands it over: files under "<folder>/…". */
function pickedFolder(...flags: string[]) {
  const dir = mkdtempSync(path.join(tmpdir(), 'mam-open-'));
  dirs.push(dir);
  runOracle('data_folder_fixtures.py', ['make', dir, ...flags]);
  const entries: { path: string; blob: Blob }[] = [];
  const walk = (rel: string) => {
    for (const name of readdirSync(path.join(dir, rel))) {
      const p = rel ? `${rel}/${name}` : name;
      if (statSync(path.join(dir, p)).isDirectory()) walk(p);
      else if (name !== 'expected.json')
        entries.push({ path: `my-scans/${p}`, blob: new Blob([readFileSync(path.join(dir, p))]) });
    }
  };
  walk('');
  const expected = JSON.parse(readFileSync(path.join(dir, 'expected.json'), 'utf8')) as Record<
    string,
    Expected
  >;
  return { entries, expected };
}

const graph = (classes: number) => ({
  classNames: Array.from({ length: classes }, (_, i) => (i ? `c${i}` : 'background')),
  inputShape: [1, 128, 128, 1],
});

describeOracle('a data folder picked in the browser', () => {
  itOracle('lists each case as nibabel and numpy see it, split by the seed', async () => {
    const { entries, expected } = pickedFolder();
    const { source, root } = blobFileSource(entries);
    expect(root).toBe('my-scans');
    const data = await openDataFolder(source, root, 3);
    const s = summariseData(data, root, 3, graph(8));
    expect(s.cases.map((c) => c.id).sort()).toEqual(Object.keys(expected).sort());
    for (const c of s.cases) {
      const e = expected[c.id];
      expect(c.dims).toEqual(e.dims);
      c.spacing.forEach((v, i) => expect(v).toBeCloseTo(e.zooms[i], 5));
      expect(c.labelValues).toEqual(e.labelValues);
      expect(c.channels).toBe(1);
    }
    // Three cases: round(3 × 20%) = 1 validates, 2 train.
    expect(s.cases.filter((c) => c.split === 'val')).toHaveLength(1);
    expect(s.cases.filter((c) => c.split === 'train')).toHaveLength(2);
    expect(s.errors).toEqual([]);
    // Slices are dims[1] high and dims[0] wide; 3 cases × dims[2] slices go to the input's 128×128.
    const [w, h, d] = expected.case01.dims;
    expect(s.warnings).toContain(
      `resizing ${3 * d} slices of ${h}×${w} stretched to 128×128 (aspect ${(w / h).toFixed(2)} → 1.00; --resize pad keeps it)`,
    );
  });

  itOracle('a label of another size than its image is refused naming the file', async () => {
    const { entries, expected } = pickedFolder('--mismatch', 'case02');
    const { source, root } = blobFileSource(entries);
    const e = await openDataFolder(source, root, 0).catch((x: unknown) => x);
    expect(e).toBeInstanceOf(DataFolderError);
    const err = e as DataFolderError;
    expect(err.code).toBe(EXIT_CODES.sizeMismatch);
    expect(err.issues).toHaveLength(1);
    expect(err.issues[0].file).toBe('labels/case02.nii.gz');
    expect(err.issues[0].message).toContain(expected.case02.labelDims.join('×'));
  });

  itOracle(
    'labels outside the graph’s classes and a class count that differs are errors',
    async () => {
      const { entries } = pickedFolder('--label', 'case03=8', '--classes', '9');
      const { source, root } = blobFileSource(entries);
      const data = await openDataFolder(source, root, 0);
      expect(data.classNames).toHaveLength(9);
      const s = summariseData(data, root, 0, graph(8));
      const files = s.errors.map((x) => x.file);
      expect(files).toContain('labels/case03.nii.gz');
      expect(s.errors.find((x) => x.file === 'labels/case03.nii.gz')!.message).toMatch(
        /holds label 8 .*outside the graph's class table 0–7/,
      );
      expect(s.errors.find((x) => x.file === 'classes.json')!.message).toMatch(
        /the data has 9 classes .* but the graph outputs 8/,
      );
      // The same folder fits a graph of nine classes.
      expect(summariseData(data, root, 0, graph(9)).errors).toEqual([]);
    },
  );

  itOracle('a case with more channels than the graph takes is named', async () => {
    const { entries } = pickedFolder();
    const { source, root } = blobFileSource(entries);
    const data = await openDataFolder(source, root, 0);
    const s = summariseData(data, root, 0, { ...graph(8), inputShape: [1, 128, 128, 3] });
    // One channel is repeated to three: fine. Two would not be.
    expect(s.errors).toEqual([]);
    const c = data.splits.train[0];
    c.channels = [c.channels[0], c.channels[0]];
    const two = summariseData(data, root, 0, { ...graph(8), inputShape: [1, 128, 128, 3] });
    expect(two.errors).toEqual([
      { file: c.files[0], message: `${c.files[0]} has 2 channels but the graph's input takes 3` },
    ]);
  });

  itOracle(
    'a graph that takes volumes (B×D×H×W×C): its channels are the last axis, and nothing is resized',
    async () => {
      const { entries } = pickedFolder();
      const { source, root } = blobFileSource(entries);
      const data = await openDataFolder(source, root, 0);
      const volumes = { ...graph(8), inputShape: [1, 32, 24, 16, 1] };
      const c = data.splits.train[0];
      c.channels = [c.channels[0], c.channels[0]];
      const s = summariseData(data, root, 0, volumes);
      expect(s.errors).toEqual([
        { file: c.files[0], message: `${c.files[0]} has 2 channels but the graph's input takes 1` },
      ]);
      expect(s.warnings.filter((w) => w.startsWith('resizing'))).toEqual([]);
      // the same folder on a 2D graph of that plane is resized
      const planes = summariseData(data, root, 0, { ...graph(8), inputShape: [1, 24, 16, 2] });
      expect(planes.warnings.filter((w) => w.startsWith('resizing')).length).toBeGreaterThan(0);
    },
  );
});
