import { readFileSync, writeFileSync } from 'node:fs';
import * as path from 'node:path';
import { describe, expect, it } from 'vitest';
import { gzip } from '../../src/data/gzip.ts';
import {
  niftiAffine,
  parseNiftiHeader,
  readNifti,
  writeLabelNifti,
  writeNifti,
} from '../../src/data/nifti.ts';
import { parseNpy, writeNpy, parseNpz } from '../../src/data/npy.ts';
import { zipSync } from 'fflate';
import { describeOracle, runOracle, withTempDir } from './data-oracle.ts';

function expectOk<T>(r: { ok: true; value: T } | { ok: false; message: string }): T {
  if (!r.ok) throw new Error(`expected ok, got: ${r.message}`);
  return r.value;
}

describe('NIfTI writer → reader round trip', () => {
  const dims = [6, 5, 4];
  const labels = Uint8Array.from({ length: 120 }, (_, i) => (i * 7) % 9);
  const affine = [
    [0, -0.9, 0, 30],
    [1.1, 0, 0, -12],
    [0, 0, 2.5, 7],
    [0, 0, 0, 1],
  ];

  it('keeps labels, voxel order, dims and affine (uint8, gzipped)', () => {
    const bytes = writeLabelNifti(labels, { dims, affine, spacing: [1.1, 0.9, 2.5] });
    expect(bytes[0]).toBe(0x1f);
    const v = expectOk(readNifti(bytes, 'pred.nii.gz'));
    expect(v.dims).toEqual(dims);
    expect(v.datatype).toBe('uint8');
    expect(Array.from(v.data)).toEqual(Array.from(labels));
    v.affine.forEach((row, r) => row.forEach((x, c) => expect(x).toBeCloseTo(affine[r][c], 5)));
    v.spacing.forEach((s, k) => expect(s).toBeCloseTo([1.1, 0.9, 2.5][k], 6));
  });

  it('writes a qform that reproduces the rigid part of the affine', () => {
    const bytes = writeNifti(labels, dims, { affine, sformCode: 0, gzip: false });
    const h = expectOk(parseNiftiHeader(bytes));
    expect(h.sformCode).toBe(0);
    expect(h.qformCode).toBe(2);
    const q = niftiAffine(h);
    q.forEach((row, r) => row.forEach((x, c) => expect(x).toBeCloseTo(affine[r][c], 5)));
  });

  it('writes int16 and float32 too', () => {
    const i16 = Int16Array.from({ length: 120 }, (_, i) => i * 13 - 700);
    expect(Array.from(expectOk(readNifti(writeNifti(i16, dims), 'a')).data)).toEqual(
      Array.from(i16),
    );
    const f32 = Float32Array.from({ length: 120 }, (_, i) => Math.sin(i));
    expect(Array.from(expectOk(readNifti(writeNifti(f32, dims), 'b')).data)).toEqual(
      Array.from(f32),
    );
  });

  it('uses pixdim ("method 1") when neither sform nor qform is set', () => {
    const bytes = writeNifti(labels, dims, {
      affine: [
        [2, 0, 0, 5],
        [0, 3, 0, 5],
        [0, 0, 4, 5],
        [0, 0, 0, 1],
      ],
      sformCode: 0,
      writeQform: false,
    });
    const v = expectOk(readNifti(bytes, 'x'));
    expect(v.affine).toEqual([
      [2, 0, 0, 0],
      [0, 3, 0, 0],
      [0, 0, 4, 0],
      [0, 0, 0, 1],
    ]);
  });
});

describe('NIfTI errors are values naming the file', () => {
  const dims = [128, 128, 64];
  const raw = writeNifti(new Uint8Array(128 * 128 * 64).fill(3), dims, { gzip: false });

  it('reports truncation with voxel counts', () => {
    const r = readNifti(raw.subarray(0, 352 + 500_000), 'case_01.nii');
    expect(r.ok).toBe(false);
    if (!r.ok) {
      expect(r.message).toBe(
        'case_01.nii is truncated: header says 1,048,576 voxels (128×128×64), file holds 500,000',
      );
      expect(r.file).toBe('case_01.nii');
    }
  });

  it('reports a truncated gzip stream with what it held', () => {
    const gz = gzip(raw);
    const r = readNifti(gz.subarray(0, Math.floor(gz.length / 2)), 'case_01.nii.gz');
    expect(r.ok).toBe(false);
    if (!r.ok)
      expect(r.message).toMatch(
        /^case_01\.nii\.gz is truncated: header says 1,048,576 voxels \(128×128×64\), file holds [\d,]+/,
      );
  });

  it('reports a corrupt gzip, a non-NIfTI file, a bad datatype and a bad dim', () => {
    const gz = gzip(raw).slice();
    for (let i = 20; i < 60; i++) gz[i] ^= 0x5a;
    const a = readNifti(gz, 'bad.nii.gz');
    expect(a.ok).toBe(false);
    if (!a.ok) expect(a.message).toMatch(/^bad\.nii\.gz /);
    const b = readNifti(new TextEncoder().encode('hello'.repeat(100)), 'notes.nii');
    expect(b.ok).toBe(false);
    if (!b.ok) expect(b.message).toMatch(/^notes\.nii is not a NIfTI file/);
    const c = raw.slice();
    new DataView(c.buffer).setInt16(70, 128, true);
    const cr = readNifti(c, 'rgb.nii');
    expect(cr.ok).toBe(false);
    if (!cr.ok)
      expect(cr.message).toBe(
        'rgb.nii stores RGB24 voxels (NIfTI datatype 128), which this reader does not support',
      );
    const d = raw.slice();
    new DataView(d.buffer).setInt16(40, 0, true);
    const dr = readNifti(d, 'dim.nii');
    expect(dr.ok).toBe(false);
    if (!dr.ok) expect(dr.message).toMatch(/dim\.nii has a corrupt header/);
  });
});

describe('.npy / .npz', () => {
  it('round-trips C-order arrays and reads Fortran order', () => {
    const a = Float32Array.from({ length: 24 }, (_, i) => i / 3);
    const p = expectOk(parseNpy(writeNpy(a, [2, 3, 4])));
    expect(p.shape).toEqual([2, 3, 4]);
    expect(Array.from(p.data)).toEqual(Array.from(a));
    // Fortran order: shape (2, 3), element [i, j] at i + 2j
    const f = writeNpy(Int16Array.from([0, 10, 1, 11, 2, 12]), [6]);
    const text = new TextDecoder('latin1').decode(f);
    const swapped = text.replace(
      "'fortran_order': False, 'shape': (6,)",
      "'fortran_order': True, 'shape': (2,3)",
    );
    const bytes = Uint8Array.from(swapped, (ch) => ch.charCodeAt(0));
    const q = expectOk(parseNpy(bytes));
    expect(Array.from(q.data)).toEqual([0, 1, 2, 10, 11, 12]);
  });

  it('reads .npz members and reports a truncated member', () => {
    const npz = zipSync({
      'image.npy': writeNpy(new Float32Array([1, 2, 3, 4]), [2, 2]),
      'label.npy': writeNpy(new Uint8Array([0, 1, 1, 0]), [2, 2]),
    });
    const z = expectOk(parseNpz(npz, 'case0005_slice000.npz'));
    expect(Object.keys(z).sort()).toEqual(['image', 'label']);
    expect(Array.from(z.label.data)).toEqual([0, 1, 1, 0]);
    const bad = zipSync({
      'image.npy': writeNpy(new Float32Array(100), [10, 10]).subarray(0, 200),
    });
    const r = parseNpz(bad, 'x.npz');
    expect(r.ok).toBe(false);
    if (!r.ok) expect(r.message).toMatch(/x\.npz:image\.npy is truncated: header says 100 values/);
  });
});

describeOracle('NIfTI reader vs nibabel fixtures', () => {
  it('reads every fixture: values, dims, affine, datatype', () => {
    withTempDir((dir) => {
      runOracle('data_nifti_fixtures.py', ['make', dir]);
      const expected = JSON.parse(readFileSync(path.join(dir, 'expected.json'), 'utf8')) as Record<
        string,
        { dims: number[]; affine: number[][]; dtype: string; zooms: number[] }
      >;
      expect(Object.keys(expected).length).toBeGreaterThanOrEqual(11);
      for (const [name, e] of Object.entries(expected)) {
        const v = expectOk(readNifti(new Uint8Array(readFileSync(path.join(dir, name))), name));
        const want = expectOk(
          parseNpy(new Uint8Array(readFileSync(path.join(dir, `${name}.values.npy`)))),
        ).data;
        expect(v.dims, name).toEqual(e.dims);
        expect(v.datatype, name).toBe(e.dtype);
        let err = 0;
        for (let i = 0; i < want.length; i++)
          err = Math.max(err, Math.abs(v.data[i] - want[i]) / Math.max(1, Math.abs(want[i])));
        expect(err, name).toBeLessThan(1e-6);
        for (let r = 0; r < 4; r++)
          for (let c = 0; c < 4; c++)
            expect(v.affine[r][c], `${name} affine[${r}][${c}]`).toBeCloseTo(e.affine[r][c], 5);
        v.spacing.forEach((s, k) => expect(s).toBeCloseTo(e.zooms[k], 6));
      }
    });
  });

  it('nibabel reads our label files with the same affine and voxel order', () => {
    withTempDir((dir) => {
      const dims = [9, 7, 5];
      const labels = Uint8Array.from({ length: 315 }, (_, i) => (i * 31) % 8);
      const affine = [
        [-0.9, 0.1, 0, 90],
        [0.1, 0.95, 0, -126],
        [0, 0, 1.5, -72],
        [0, 0, 0, 1],
      ];
      const file = path.join(dir, 'pred.nii.gz');
      writeFileSync(
        file,
        writeLabelNifti(labels, { dims, affine, spacing: [0.9055, 0.9552, 1.5] }),
      );
      const info = JSON.parse(runOracle('data_nifti_fixtures.py', ['check', file])) as {
        shape: number[];
        affine: number[][];
        dtype: string;
        sform_code: number;
      };
      expect(info.shape).toEqual(dims);
      expect(info.dtype).toBe('uint8');
      expect(info.sform_code).toBe(2);
      for (let r = 0; r < 4; r++)
        for (let c = 0; c < 4; c++) expect(info.affine[r][c]).toBeCloseTo(affine[r][c], 5);
      const back = expectOk(parseNpy(new Uint8Array(readFileSync(`${file}.values.npy`)))).data;
      expect(Array.from(back)).toEqual(Array.from(labels));
    });
  });
});
