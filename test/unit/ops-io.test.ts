/** safetensors and .npy reader/writer (src/compile/io): round trips, and NumPy/safetensors as the oracle when .venv exists. */
import { execFileSync } from 'node:child_process';
import { mkdtempSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { describe, expect, it } from 'vitest';
import { readNpy, writeNpy } from '../../src/compile/io/npy.ts';
import {
  readSafetensors,
  tensorValues,
  toFloat32,
  writeSafetensors,
} from '../../src/compile/io/safetensors.ts';
import { describeOracle, venvPython as PY } from './data-oracle.ts';

describe('safetensors', () => {
  it('round-trips tensors, dtypes and metadata', () => {
    const bytes = writeSafetensors(
      {
        'b.weight': { shape: [2, 3], data: Float32Array.from([1, 2, 3, 4, 5, 6.5]) },
        'a.bias': { shape: [3], data: Float64Array.from([-1, 0.1, 1e-300]) },
        idx: { shape: [2], data: BigInt64Array.from([5n, -7n]) },
        flag: { dtype: 'BOOL', shape: [3], data: Uint8Array.from([1, 0, 1]) },
        bf: { dtype: 'BF16', shape: [2], data: Uint16Array.from([0x3f80, 0xc040]) }, // 1, -3
        half: { dtype: 'F16', shape: [2], data: Uint16Array.from([0x3c00, 0x3555]) }, // 1, ≈1/3
        empty: { shape: [0, 4], data: new Float32Array(0) },
      },
      { format: 'pt' },
    );
    const view = new DataView(bytes.buffer);
    expect(Number(view.getBigUint64(0, true)) % 8).toBe(0);
    const f = readSafetensors(bytes);
    expect(f.metadata).toEqual({ format: 'pt' });
    expect([...f.tensors.keys()].sort()).toEqual([
      'a.bias',
      'b.weight',
      'bf',
      'empty',
      'flag',
      'half',
      'idx',
    ]);
    expect(Array.from(tensorValues(f.tensors.get('b.weight')!) as Float32Array)).toEqual([
      1, 2, 3, 4, 5, 6.5,
    ]);
    expect(f.tensors.get('b.weight')!.shape).toEqual([2, 3]);
    expect(Array.from(tensorValues(f.tensors.get('a.bias')!) as Float64Array)).toEqual([
      -1, 0.1, 1e-300,
    ]);
    expect(Array.from(tensorValues(f.tensors.get('idx')!) as BigInt64Array)).toEqual([5n, -7n]);
    expect(Array.from(toFloat32(f.tensors.get('idx')!))).toEqual([5, -7]);
    expect(Array.from(toFloat32(f.tensors.get('flag')!))).toEqual([1, 0, 1]);
    expect(Array.from(toFloat32(f.tensors.get('bf')!))).toEqual([1, -3]);
    const h = toFloat32(f.tensors.get('half')!);
    expect(h[0]).toBe(1);
    expect(Math.abs(h[1] - 1 / 3)).toBeLessThan(1e-3);
    expect(f.tensors.get('empty')!.shape).toEqual([0, 4]);
  });

  it('rejects malformed files', () => {
    expect(() => readSafetensors(new Uint8Array(4))).toThrow(/8-byte/);
    const bad = writeSafetensors({ x: { shape: [2], data: Float32Array.from([1, 2]) } });
    expect(() => readSafetensors(bad.subarray(0, bad.length - 4))).toThrow(
      /the tensors need 8 bytes of data, the file holds 4/,
    );
  });
});

describe('npy', () => {
  it('round-trips dtypes and shapes', () => {
    for (const [data, shape] of [
      [Float32Array.from([1, 2, 3, 4, 5, 6]), [2, 3]],
      [Float64Array.from([0.1, -2]), [2]],
      [Int32Array.from([7]), []],
      [BigInt64Array.from([1n, -2n, 3n, 4n]), [2, 1, 2]],
      [Uint8Array.from([1, 0, 255]), [3]],
    ] as const) {
      const bytes = writeNpy(data, shape.slice());
      expect((10 + new DataView(bytes.buffer).getUint16(8, true)) % 64).toBe(0);
      const r = readNpy(bytes);
      expect(r.shape).toEqual(shape);
      expect(Array.from(r.data as ArrayLike<number | bigint>)).toEqual(
        Array.from(data as ArrayLike<number | bigint>),
      );
    }
    expect(() => readNpy(Uint8Array.from([1, 2, 3, 4, 5, 6, 7, 8, 9, 10]))).toThrow(/magic/);
  });
  it('reads a Node Buffer that is a view into a larger pool (what readFileSync returns for a small file)', () => {
    const bytes = writeNpy(Float32Array.from([1.5, 2.5, -3, 4]), [4]);
    const pool = Buffer.alloc(bytes.length + 24, 7);
    bytes.forEach((b, i) => (pool[8 + i] = b));
    const view = pool.subarray(8, 8 + bytes.length);
    expect(Array.from(readNpy(view).data as Float32Array)).toEqual([1.5, 2.5, -3, 4]);
  });
});

describe('default dtypes', () => {
  // What each typed array is written as when no dtype is given: numpy's and safetensors' names.
  const TABLE = [
    [Float64Array, 'f8', 'F64'],
    [Float32Array, 'f4', 'F32'],
    [BigInt64Array, 'i8', 'I64'],
    [BigUint64Array, 'u8', 'U64'],
    [Int32Array, 'i4', 'I32'],
    [Uint32Array, 'u4', 'U32'],
    [Int16Array, 'i2', 'I16'],
    [Uint16Array, 'u2', 'U16'],
    [Int8Array, 'i1', 'I8'],
    [Uint8Array, 'u1', 'U8'],
  ] as const;
  it.each(TABLE)('%o: npy %s, safetensors %s', (Typed, npy, st) => {
    const data = new Typed(2);
    expect(readNpy(writeNpy(data, [2])).dtype).toBe(npy);
    expect(
      readSafetensors(writeSafetensors({ x: { shape: [2], data } })).tensors.get('x')!.dtype,
    ).toBe(st);
  });
});

describeOracle('io cross-check with NumPy and safetensors (.venv)', () => {
  it('Python reads what we write, we read what Python writes', () => {
    const dir = mkdtempSync(join(tmpdir(), 'mam-io-'));
    try {
      writeFileSync(
        join(dir, 'ts.npy'),
        writeNpy(Float32Array.from([0.5, -1, 2, 3.25, 4, 5]), [3, 2]),
      );
      writeFileSync(join(dir, 'ts_i64.npy'), writeNpy(BigInt64Array.from([9n, -9n]), [2]));
      writeFileSync(
        join(dir, 'ts.safetensors'),
        writeSafetensors({
          w: { shape: [2, 2], data: Float32Array.from([1, 2, 3, 4]) },
          d: { shape: [1], data: Float64Array.from([0.1]) },
        }),
      );
      const seen = JSON.parse(
        execFileSync(PY, ['test/python/ops_io_check.py', dir], { encoding: 'utf8' }),
      );
      expect(seen['ts.npy']).toEqual({
        dtype: 'float32',
        shape: [3, 2],
        values: [0.5, -1, 2, 3.25, 4, 5],
      });
      expect(seen['ts_i64.npy']).toEqual({ dtype: 'int64', shape: [2], values: [9, -9] });
      expect(seen['ts.safetensors']).toEqual({
        w: { dtype: 'float32', shape: [2, 2], values: [1, 2, 3, 4] },
        d: { dtype: 'float64', shape: [1], values: [0.1] },
      });

      const npy = (name: string) => readNpy(new Uint8Array(readFileSync(join(dir, name))));
      const f4 = npy('py_f4.npy');
      expect(f4.shape).toEqual([2, 3, 4]);
      expect(Array.from(f4.data as Float32Array)).toEqual(
        Array.from({ length: 24 }, (_, i) => i / 8),
      );
      const f8 = npy('py_f8_fortran.npy');
      expect(f8.shape).toEqual([3, 4]);
      expect(Array.from(f8.data as Float64Array)).toEqual(
        Array.from({ length: 12 }, (_, i) => i - 5.5),
      );
      expect(Array.from(npy('py_i8.npy').data as BigInt64Array)).toEqual([
        -3n,
        -2n,
        -1n,
        0n,
        1n,
        2n,
      ]);
      const b = npy('py_bool.npy');
      expect(b.dtype).toBe('b1');
      expect(Array.from(b.data as Uint8Array)).toEqual([1, 0, 1, 0, 1]);
      expect(Array.from(npy('py_f2.npy').data as Float32Array)).toEqual([-1.5, -0.5, 0.5, 1.5]);
      expect(Array.from(npy('py_be.npy').data as Float32Array)).toEqual([0, 2, 4]);
      const sc = npy('py_scalar.npy');
      expect(sc.shape).toEqual([]);
      expect(Array.from(sc.data as Float32Array)).toEqual([3.25]);

      const st = readSafetensors(new Uint8Array(readFileSync(join(dir, 'py.safetensors'))));
      expect(st.metadata).toEqual({ format: 'np' });
      expect(st.tensors.get('w')!.shape).toEqual([2, 3]);
      expect(Array.from(toFloat32(st.tensors.get('w')!))).toEqual([0, 0.25, 0.5, 0.75, 1, 1.25]);
      expect(Array.from(tensorValues(st.tensors.get('d')!) as Float64Array)).toEqual([-1, 0, 1]);
      expect(Array.from(tensorValues(st.tensors.get('i')!) as BigInt64Array)).toEqual([
        0n,
        1000n,
        2000n,
        3000n,
      ]);
      expect(Array.from(toFloat32(st.tensors.get('h')!))).toEqual([0, 0.5, 1]);
    } finally {
      rmSync(dir, { recursive: true, force: true });
    }
  });
});
