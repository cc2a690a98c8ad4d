import { encode } from 'fast-png';
import { zipSync } from 'fflate';
import { describe, expect, it } from 'vitest';
import {
  loadNiftiFolder,
  loadPngFolder,
  loadSynapse,
  parseClassTable,
  SYNAPSE_CLASSES,
} from '../../src/data/dataset.ts';
import { memoryFileSource } from '../../src/data/files.ts';
import { writeNifti } from '../../src/data/nifti.ts';
import { writeNpy } from '../../src/data/npy.ts';
import { readH5Datasets } from '../../src/data/h5.ts';
import type { DataSetResult } from '../../src/data/types.ts';

const enc = (s: string) => new TextEncoder().encode(s);
const dims = [8, 6, 4];
const n = 8 * 6 * 4;
const img = (seed: number) =>
  writeNifti(
    Float32Array.from({ length: n }, (_, i) => Math.sin(i + seed)),
    dims,
  );
const lbl = (max: number, d = dims) =>
  writeNifti(
    Uint8Array.from({ length: d.reduce((a, b) => a * b, 1) }, (_, i) => i % (max + 1)),
    d,
  );
const classes = enc(JSON.stringify({ labels: { '0': 'background', '1': 'liver', '2': 'tumour' } }));

function expectOk(r: DataSetResult) {
  if (!r.ok) throw new Error(`expected ok: ${r.issues.map((i) => i.message).join('; ')}`);
  return r.value;
}
function expectIssues(r: DataSetResult): string[] {
  expect(r.ok).toBe(false);
  return r.ok ? [] : r.issues.map((i) => i.message);
}

async function h5Bytes(
  arrays: Record<string, { data: Float32Array; shape: number[] }>,
): Promise<Uint8Array> {
  const h5 = await import('h5wasm');
  const mod = await h5.ready;
  const p = `/fixture-${Math.random().toString(36).slice(2)}.h5`;
  const f = new h5.File(p, 'w');
  for (const [name, a] of Object.entries(arrays))
    f.create_dataset({ name, data: a.data, shape: a.shape, dtype: '<f4' });
  f.close();
  const bytes = mod.FS.readFile(p) as Uint8Array;
  mod.FS.unlink(p);
  return bytes;
}

describe('class tables', () => {
  it('reads lists, Decathlon and nnU-Net v2 forms', () => {
    expect(parseClassTable('["background","a"]')).toEqual({ ok: true, value: ['background', 'a'] });
    expect(parseClassTable('{"classes":["background","a"]}')).toEqual({
      ok: true,
      value: ['background', 'a'],
    });
    expect(parseClassTable('{"labels":{"background":0,"b":2,"a":1}}')).toEqual({
      ok: true,
      value: ['background', 'a', 'b'],
    });
    const gap = parseClassTable('{"labels":{"0":"background","2":"x"}}', 'ds/classes.json');
    expect(gap.ok).toBe(false);
    if (!gap.ok) expect(gap.message).toMatch(/^ds\/classes\.json: label indices must run 0, 1, 2/);
  });
});

describe('NIfTI folders', () => {
  it('nnU-Net layout: channels _0000/_0001 grouped per case, labels matched, classes from dataset.json', async () => {
    const src = memoryFileSource({
      'imagesTr/case_01_0000.nii.gz': img(1),
      'imagesTr/case_01_0001.nii.gz': img(2),
      'imagesTr/case_02_0000.nii.gz': img(3),
      'imagesTr/case_02_0001.nii.gz': img(4),
      'labelsTr/case_01.nii.gz': lbl(2),
      'labelsTr/case_02.nii.gz': lbl(1),
      'dataset.json': classes,
    });
    const ds = expectOk(await loadNiftiFolder(src));
    expect(ds.classNames).toEqual(['background', 'liver', 'tumour']);
    expect(ds.cases.map((c) => c.id)).toEqual(['case_01', 'case_02']);
    expect(ds.cases[0].channels).toHaveLength(2);
    expect(ds.cases[0].channels[1].data[0]).toBeCloseTo(Math.sin(2), 6);
    expect(ds.cases[0].label?.data[2]).toBe(2);
  });

  it('Decathlon layout: one 4D file per case splits into channels', async () => {
    const four = writeNifti(
      Float32Array.from({ length: n * 3 }, (_, i) => Math.floor(i / n)),
      [...dims, 3],
    );
    const src = memoryFileSource({
      'imagesTr/liver_7.nii.gz': four,
      'labelsTr/liver_7.nii.gz': lbl(2),
      'classes.json': classes,
    });
    const ds = expectOk(await loadNiftiFolder(src));
    expect(ds.cases[0].channels.map((c) => c.data[0])).toEqual([0, 1, 2]);
    expect(ds.cases[0].channels[2].dims).toEqual(dims);
  });

  it('reports mismatched sizes, labels outside the class table, missing labels, corrupt files — naming files', async () => {
    const src = memoryFileSource({
      'imagesTr/a_0000.nii.gz': img(1),
      'labelsTr/a.nii.gz': lbl(2, [8, 6, 5]),
      'imagesTr/b_0000.nii.gz': img(1),
      'labelsTr/b.nii.gz': lbl(5),
      'imagesTr/c_0000.nii.gz': img(1),
      'imagesTr/d_0000.nii.gz': img(1).subarray(0, 300),
      'labelsTr/d.nii.gz': lbl(1),
      'classes.json': classes,
    });
    const msgs = expectIssues(await loadNiftiFolder(src));
    expect(msgs).toContain('imagesTr/a_0000.nii.gz is 8×6×4 but labelsTr/a.nii.gz is 8×6×5');
    expect(
      msgs.some((m) =>
        /^labelsTr\/b\.nii\.gz holds label 5 \(voxel \d+\), outside the class table 0–2 \(3 classes\)$/.test(
          m,
        ),
      ),
    ).toBe(true);
    expect(msgs).toContain('case c has no label file (looked for labelsTr/c.nii.gz)');
    expect(msgs.some((m) => m.startsWith('imagesTr/d_0000.nii.gz '))).toBe(true);
  });

  it('reports an empty folder', async () => {
    const r = await loadNiftiFolder(memoryFileSource({ 'imagesTr/readme.txt': enc('x') }), '');
    expect(expectIssues(r)[0]).toBe('empty folder: imagesTr holds no .nii/.nii.gz files');
    const r2 = await loadNiftiFolder(memoryFileSource({}), 'mydata');
    expect(expectIssues(r2)[0]).toMatch(/^empty folder: mydata has no imagesTr\//);
  });

  it('names classes by number (with a warning) when there is no class table', async () => {
    const r = await loadNiftiFolder(
      memoryFileSource({ 'images/x.nii.gz': img(0), 'labels/x.nii.gz': lbl(3) }),
    );
    expect(r.ok).toBe(true);
    if (r.ok) {
      expect(r.value.classNames).toEqual(['background', 'class 1', 'class 2', 'class 3']);
      expect(r.warnings[0].message).toMatch(/no classes\.json/);
      // Callers (mam train's class check) act on the tag, never on the wording.
      expect(r.warnings[0].warning).toBe('classesByNumber');
    }
  });
});

describe('PNG folders', () => {
  const png = (w: number, h: number, f: (i: number) => number, channels = 1) =>
    encode({
      width: w,
      height: h,
      channels,
      depth: 8,
      data: Uint8Array.from({ length: w * h * channels }, (_, i) => f(Math.floor(i / channels))),
    });
  it('matches images and masks by name and reads gray values and labels', async () => {
    const src = memoryFileSource({
      'images/p1.png': png(5, 4, (i) => i * 10),
      'masks/p1.png': png(5, 4, (i) => i % 3),
      'images/p2.png': png(5, 4, (i) => 255 - i, 3),
      'masks/p2.png': png(5, 4, () => 1),
      'classes.json': enc('["background","cell","nucleus"]'),
    });
    const ds = expectOk(await loadPngFolder(src));
    expect(ds.cases.map((c) => c.id)).toEqual(['p1', 'p2']);
    expect(ds.cases[0].channels[0].dims).toEqual([5, 4, 1]);
    expect(ds.cases[0].channels[0].data[7]).toBe(70);
    expect(ds.cases[1].channels[0].data[3]).toBeCloseTo(252, 3);
    expect(Array.from(ds.cases[0].label!.data.slice(0, 4))).toEqual([0, 1, 2, 0]);
  });
  it('reports size mismatch, missing mask, colour mask, corrupt PNG and labels outside the table', async () => {
    const colour = encode({
      width: 2,
      height: 2,
      channels: 3,
      depth: 8,
      data: Uint8Array.from([0, 0, 0, 1, 2, 3, 0, 0, 0, 0, 0, 0]),
    });
    const src = memoryFileSource({
      'images/a.png': png(5, 4, () => 0),
      'masks/a.png': png(4, 4, () => 0),
      'images/b.png': png(5, 4, () => 0),
      'images/c.png': png(2, 2, () => 0),
      'masks/c.png': colour,
      'images/d.png': png(5, 4, () => 0).subarray(0, 40),
      'masks/d.png': png(5, 4, () => 0),
      'images/e.png': png(5, 4, () => 0),
      'masks/e.png': png(5, 4, () => 7),
      'classes.json': enc('["background","cell"]'),
    });
    const msgs = expectIssues(await loadPngFolder(src));
    expect(msgs).toContain('images/a.png is 5×4×1 but masks/a.png is 4×4×1');
    expect(msgs).toContain('images/b.png has no mask: expected masks/b.png');
    expect(msgs.some((m) => m.startsWith('masks/c.png is a colour mask'))).toBe(true);
    expect(msgs.some((m) => m.startsWith('images/d.png is a corrupt PNG'))).toBe(true);
    expect(msgs.some((m) => m.startsWith('masks/e.png holds label 7'))).toBe(true);
  });
});

describe('Synapse preprocessed layout', () => {
  const slice = (k: number) =>
    zipSync({
      'image.npy': writeNpy(
        Float32Array.from({ length: 12 }, (_, i) => i / 12 + k),
        [3, 4],
      ),
      'label.npy': writeNpy(
        Float32Array.from({ length: 12 }, (_, i) => i % 9),
        [3, 4],
      ),
    });
  it('reads train slices (.npz) from train.txt', async () => {
    const src = memoryFileSource({
      'lists/lists_Synapse/train.txt': enc('case0005_slice000\ncase0005_slice001\n'),
      'train_npz/case0005_slice000.npz': slice(0),
      'train_npz/case0005_slice001.npz': slice(1),
    });
    const ds = expectOk(await loadSynapse(src, '', { split: 'train' }));
    expect(ds.classNames).toEqual(SYNAPSE_CLASSES);
    expect(ds.cases).toHaveLength(2);
    expect(ds.cases[1].channels[0].dims).toEqual([4, 3, 1]);
    expect(ds.cases[1].channels[0].data[0]).toBeCloseTo(1, 6);
    expect(ds.cases[0].label!.data[8]).toBe(8);
  });
  it('reads test volumes (.npy.h5) from test_vol.txt', async () => {
    const D = 2;
    const h5 = await h5Bytes({
      image: { data: Float32Array.from({ length: D * 12 }, (_, i) => i), shape: [D, 3, 4] },
      label: { data: Float32Array.from({ length: D * 12 }, (_, i) => i % 4), shape: [D, 3, 4] },
    });
    const src = memoryFileSource({
      'test_vol.txt': enc('case0008\n'),
      'test_vol_h5/case0008.npy.h5': h5,
    });
    const ds = expectOk(await loadSynapse(src, '', { split: 'test' }));
    expect(ds.cases[0].channels[0].dims).toEqual([4, 3, 2]);
    expect(ds.cases[0].channels[0].data[23]).toBe(23);
    expect(ds.cases[0].label!.data[7]).toBe(3);
  });
  it('reports missing and corrupt files and a missing list', async () => {
    const src = memoryFileSource({
      'train.txt': enc('a\nb\nc\n'),
      'train_npz/a.npz': slice(0),
      'train_npz/b.npz': enc('not a zip'),
    });
    const msgs = expectIssues(await loadSynapse(src, '', { split: 'train' }));
    expect(msgs.some((m) => m.startsWith('train_npz/b.npz is not a readable .npz'))).toBe(true);
    expect(msgs).toContain('train_npz/c.npz (listed in train.txt) cannot be read');
    const none = expectIssues(await loadSynapse(memoryFileSource({}), 'syn', { split: 'test' }));
    expect(none[0]).toMatch(/^syn\/test_vol\.txt not found/);
    const bad = await readH5Datasets(enc('\x89HDF\r\n\x1a\n garbage'), ['image'], 'x.npy.h5');
    expect(bad.ok).toBe(false);
    if (!bad.ok) expect(bad.message).toMatch(/^x\.npy\.h5 /);
  });
});
