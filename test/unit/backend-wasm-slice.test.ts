/**
 * On wasm, Slice, SplitV and Concat copy on the heap (src/backend/wasm-slice.ts):
 * no read of the whole input out of the heap, and the elements plain index
 * loops over the input's values pick.
 */
import * as tf from '#tfjs';
import { afterEach, beforeAll, describe, expect, it, vi } from 'vitest';
import { initBackend } from '../../src/backend/index.ts';
import { rng } from '../../src/compile/init.ts';

beforeAll(async () => {
  const info = await initBackend('wasm');
  if (info.name !== 'wasm') throw new Error(info.message);
});
afterEach(() => vi.restoreAllMocks());

const strides = (shape: number[]) =>
  shape.map((_, a) => shape.slice(a + 1).reduce((p, d) => p * d, 1));

/** Every index tuple of `shape`, last axis fastest. */
function* indices(shape: number[]): Generator<number[]> {
  const n = shape.reduce((p, d) => p * d, 1);
  const st = strides(shape);
  for (let f = 0; f < n; f++) yield shape.map((d, a) => Math.floor(f / st[a]) % d);
}

/** The box begin/size of `values` (shape `shape`) by index arithmetic. */
function boxOf(values: number[], shape: number[], begin: number[], size: number[]): number[] {
  const st = strides(shape);
  return [...indices(size)].map(
    (i) => values[i.reduce((o, v, a) => o + (v + begin[a]) * st[a], 0)],
  );
}

describe('wasm Slice, SplitV and Concat on the heap', () => {
  it('read no tensor out of the heap', () => {
    const backend = tf.backend() as unknown as { readSync: () => unknown };
    const read = vi.spyOn(backend, 'readSync');
    const outs = tf.tidy(() => {
      const x = tf.reshape(tf.range(0, 4 * 6 * 8), [4, 6, 8]);
      return [
        tf.slice(x, [1, 2, 0], [2, 3, 8]),
        tf.slice(x, [1, 0, 0], [2, 6, 8]),
        ...tf.split(x, [2, 6], 2),
        tf.concat([x, x], 1),
      ].map((t) => tf.keep(t));
    });
    expect(read).not.toHaveBeenCalled();
    tf.dispose(outs);
  });

  it.each(['float32', 'int32', 'bool'] as const)(
    'slices of rank 1–5 (%s) hold the elements index loops pick',
    (dtype) => {
      const r = rng(7);
      for (let trial = 0; trial < 60; trial++) {
        const rank = 1 + (trial % 5);
        const shape = Array.from({ length: rank }, () => 1 + Math.floor(r() * 5));
        const n = shape.reduce((p, d) => p * d, 1);
        const values = Array.from({ length: n }, (_, i) =>
          dtype === 'bool' ? Number(r() < 0.5) : dtype === 'int32' ? i - 7 : i * 0.5 - 3,
        );
        const begin = shape.map((d) => Math.floor(r() * d));
        // some axes whole, some not, some of size 0
        const size = shape.map((d, a) =>
          trial % 7 === 0 && a === 0
            ? 0
            : r() < 0.4
              ? d - begin[a]
              : Math.floor(r() * (d - begin[a] + 1)),
        );
        const got = tf.tidy(() =>
          Array.from(tf.slice(tf.tensor(values, shape, dtype), begin, size).dataSync()),
        );
        expect(got, `${shape} at ${begin} size ${size}`).toEqual(boxOf(values, shape, begin, size));
      }
    },
  );

  it('splits and concatenations along every axis agree with index loops', () => {
    const shape = [3, 4, 5];
    const values = Array.from({ length: 60 }, (_, i) => i * 1.5 - 20);
    for (let axis = 0; axis < 3; axis++) {
      const d = shape[axis];
      const sizes = [1, d - 1];
      const pieces = tf.tidy(() =>
        tf.split(tf.tensor(values, shape), sizes, axis).map((t) => Array.from(t.dataSync())),
      );
      const begin = [0, 0, 0];
      sizes.forEach((s, k) => {
        const size = shape.slice();
        size[axis] = s;
        expect(pieces[k], `axis ${axis} piece ${k}`).toEqual(boxOf(values, shape, begin, size));
        begin[axis] += s;
      });
      // concat(x, x[..., :1 on axis]) element by element
      const joined = tf.tidy(() => {
        const x = tf.tensor(values, shape);
        const size = shape.slice();
        size[axis] = 1;
        return Array.from(tf.concat([x, tf.slice(x, [0, 0, 0], size)], axis).dataSync());
      });
      const outShape = shape.slice();
      outShape[axis] += 1;
      const st = strides(shape);
      const expected = [...indices(outShape)].map((i) => {
        const j = i.map((v, a) => (a === axis && v === shape[axis] ? 0 : v));
        return values[j.reduce((o, v, a) => o + v * st[a], 0)];
      });
      expect(joined, `axis ${axis}`).toEqual(expected);
    }
  });

  it.each(['float32', 'int32'] as const)(
    'copies %s by the SIMD module where runs are short, no run by copyWithin: attention-sized concats on the last axis, slices',
    (dtype) => {
      const copyWithin = vi.spyOn(
        dtype === 'float32' ? Float32Array.prototype : Int32Array.prototype,
        'copyWithin',
      );
      // widths 1–3 (element by element), 4, 5 (a run with an overlapping last vector), 64
      const cases: [number[], number[]][] = [
        [
          [32, 16],
          [64, 64, 64],
        ],
        [
          [7, 3],
          [1, 2, 3],
        ],
        [[5], [4, 5, 9]],
      ];
      for (const [lead, widths] of cases) {
        const rows = lead.reduce((p, d) => p * d, 1);
        const parts = widths.map((w, k) =>
          Array.from({ length: rows * w }, (_, i) => (k + 1) * 1000 + i),
        );
        const got = tf.tidy(() =>
          Array.from(
            tf
              .concat(
                parts.map((v, k) => tf.tensor(v, [...lead, widths[k]], dtype)),
                lead.length,
              )
              .dataSync(),
          ),
        );
        const expected: number[] = [];
        for (let r = 0; r < rows; r++)
          parts.forEach((v, k) => expected.push(...v.slice(r * widths[k], (r + 1) * widths[k])));
        expect(got, `${lead} ${widths}`).toEqual(expected);
      }
      const shape = [4, 6, 9];
      const values = Array.from({ length: 216 }, (_, i) => i - 100);
      for (const [begin, size] of [
        [
          [1, 2, 3],
          [2, 3, 5],
        ],
        [
          [0, 1, 0],
          [4, 4, 2],
        ],
        [
          [2, 0, 0],
          [1, 6, 9],
        ],
      ]) {
        const got = tf.tidy(() =>
          Array.from(tf.slice(tf.tensor(values, shape, dtype), begin, size).dataSync()),
        );
        expect(got, `slice ${begin} ${size}`).toEqual(boxOf(values, shape, begin, size));
      }
      expect(copyWithin).not.toHaveBeenCalled();
    },
  );

  it('concatenates tensors of different widths and skips empty ones', () => {
    const got = tf.tidy(() => {
      const a = tf.tensor([1, 2, 3, 4], [2, 2], 'int32');
      const b = tf.tensor([], [2, 0], 'int32');
      const c = tf.tensor([5, 6, 7, 8, 9, 10], [2, 3], 'int32');
      return Array.from(tf.concat([a, b, c], 1).dataSync());
    });
    expect(got).toEqual([1, 2, 5, 6, 7, 3, 4, 8, 9, 10]);
  });

  it('slices and concatenates a tensor that lives on the cpu backend, though moving it grows the heap', async () => {
    // `mam train` failed with "copyWithin on a detached ArrayBuffer": a view
    // of the heap was taken before the input was moved onto it from cpu, and
    // the move grew the heap (a new buffer). Each input here is larger than
    // the whole heap, so moving it must grow the heap.
    const heap = () => (tf.backend() as unknown as { wasm: { HEAPU8: Uint8Array } }).wasm.HEAPU8;
    for (const op of ['slice', 'concat'] as const) {
      const before = heap().length;
      const rows = Math.ceil(before / 4 / 64) + 1024;
      const values = new Float32Array(rows * 64);
      for (let i = 0; i < values.length; i += 4099) values[i] = i % 1000;
      await tf.setBackend('cpu');
      const big = tf.tensor(values, [rows, 64]);
      const small = tf.tensor([1, 2, 3, 4], [1, 4]);
      await tf.setBackend('wasm');
      const got = tf.tidy(() => {
        const part = tf.slice(big, [4099, 0], [2, 64]); // rows 4099, 4100
        return op === 'slice'
          ? Array.from(part.dataSync())
          : Array.from(tf.concat([tf.slice(part, [0, 0], [1, 4]), small], 0).dataSync());
      });
      expect(heap().length, 'the heap grew').toBeGreaterThan(before);
      const row = (r: number) => Array.from(values.subarray(r * 64, r * 64 + 64));
      expect(got, op).toEqual(
        op === 'slice' ? [...row(4099), ...row(4100)] : [...row(4099).slice(0, 4), 1, 2, 3, 4],
      );
      tf.dispose([big, small]);
    }
  });
});
