/**
 * On wasm, Slice and SplitV read their input in place (src/backend/wasm-slice.ts):
 * the values of boxes of ranks 1–6 against a plain loop over the box (for
 * float32, int32 and bool), splits and their gradient (the concat of the
 * parts' gradients), and no read of the whole input out of the heap.
 */
import * as tf from '#tfjs';
import { beforeAll, describe, expect, it, vi } from 'vitest';
import { initBackend } from '../../src/backend/index.ts';

beforeAll(async () => {
  const info = await initBackend('wasm');
  if (info.name !== 'wasm') throw new Error(info.message);
});

/** The box by the definition: out index o reads x at begin + o. */
function sliceLoop(
  data: ArrayLike<number>,
  shape: number[],
  begin: number[],
  size: number[],
): number[] {
  const strides = shape.map((_, i) => shape.slice(i + 1).reduce((a, b) => a * b, 1));
  const total = size.reduce((a, b) => a * b, 1);
  const out: number[] = [];
  for (let flat = 0; flat < total; flat++) {
    let r = flat;
    let src = 0;
    for (let k = size.length - 1; k >= 0; k--) {
      src += ((r % size[k]) + begin[k]) * strides[k];
      r = Math.floor(r / size[k]);
    }
    out.push(data[src]);
  }
  return out;
}

const cases: [number[], number[], number[]][] = [
  [[10], [3], [5]],
  [
    [6, 12],
    [0, 4],
    [6, 4],
  ], // a column block (qkv's q, k or v)
  [
    [6, 12],
    [2, 0],
    [3, 12],
  ], // whole rows: one run
  [
    [4, 5, 6],
    [1, 0, 0],
    [2, 5, 6],
  ],
  [
    [4, 5, 6],
    [1, 2, 3],
    [3, 2, 2],
  ],
  [
    [3, 4, 5, 6],
    [0, 1, 0, 0],
    [3, 2, 5, 6],
  ], // runs of whole inner axes under a cut
  [
    [2, 3, 4, 5, 6],
    [1, 0, 2, 1, 0],
    [1, 3, 2, 3, 6],
  ],
  [
    [2, 3, 2, 4, 3, 5],
    [0, 1, 1, 0, 1, 2],
    [2, 2, 1, 4, 2, 3],
  ],
  [
    [4, 5],
    [1, 1],
    [0, 3],
  ], // empty
];

describe('wasm Slice in place', () => {
  for (const [shape, begin, size] of cases)
    for (const dtype of ['float32', 'int32', 'bool'] as const)
      it(`${shape.join('×')} from [${begin}] size [${size}] (${dtype}) equals the loop`, () => {
        const n = shape.reduce((a, b) => a * b, 1);
        const data = Array.from({ length: n }, (_, i) =>
          dtype === 'bool' ? ((i * 7) % 3 === 0 ? 1 : 0) : (i * 7919) % 10007,
        );
        const x = tf.tensor(data, shape, dtype);
        const y = tf.slice(x, begin, size);
        expect(y.shape).toEqual(size);
        expect(y.dtype).toBe(dtype);
        expect(Array.from(y.dataSync(), Number)).toEqual(sliceLoop(data, shape, begin, size));
        tf.dispose([x, y]);
      });

  it('split parts equal the loop and the gradient is their gradients side by side', () => {
    const shape = [5, 9];
    const data = Array.from({ length: 45 }, (_, i) => i * 1.5 - 7);
    const x = tf.tensor2d(data, [5, 9]);
    const parts = tf.split(x, [2, 3, 4], 1) as tf.Tensor2D[];
    let at = 0;
    for (const p of parts) {
      const w = p.shape[1];
      expect(Array.from(p.dataSync())).toEqual(sliceLoop(data, shape, [0, at], [5, w]));
      at += w;
    }
    // d/dx Σ_p Σ (p ⊙ (p_index + 1)): part p's columns get p + 1
    const g = tf.grad((t: tf.Tensor) =>
      tf.addN(tf.split(t, [2, 3, 4], 1).map((p, i) => tf.sum(tf.mul(p, i + 1)))),
    )(x);
    const want = data.map((_, i) => {
      const c = i % 9;
      return c < 2 ? 1 : c < 5 ? 2 : 3;
    });
    expect(Array.from(g.dataSync())).toEqual(want);
    tf.dispose([x, g, ...parts]);
  });

  it('reads no copy of the whole input out of the heap', () => {
    const x = tf.tensor2d(
      Array.from({ length: 384 * 96 }, (_, i) => i),
      [96, 384],
    );
    const backend = tf.backend() as unknown as { readSync: (...a: unknown[]) => unknown };
    const read = vi.spyOn(backend, 'readSync');
    const y = tf.slice(x, [0, 128], [96, 128]);
    const parts = tf.split(x, 3, 1);
    expect(read).not.toHaveBeenCalled();
    read.mockRestore();
    expect(y.dataSync()[0]).toBe(128);
    tf.dispose([x, y, ...parts]);
  });
});
