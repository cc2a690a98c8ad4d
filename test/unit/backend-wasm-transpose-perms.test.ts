/**
 * On wasm, float32 and int32 transposes run in our SIMD kernel
 * (src/backend/wasm-transpose.ts, wasm-transpose-simd.ts): every perm of
 * ranks 1–6 on small shapes of sizes 1, 3, 5 and 8 (4×4 tiles and their
 * edges, runs shorter than 4 and longer, axes of size 1) against a plain loop
 * over the definition, bit for bit (NaN payloads, −0 and subnormals
 * included: a transpose is a copy); bool through tfjs's kernel; the shapes
 * the simplification makes; and no tensor or buffer left behind.
 */
import * as tf from '#tfjs';
import { beforeAll, describe, expect, it } from 'vitest';
import { initBackend } from '../../src/backend/index.ts';
import {
  simdTranspose,
  simplifyTranspose,
  transposeCalls,
} from '../../src/backend/wasm-transpose.ts';
import { transposeLoop } from './backend-wasm-transpose-reference.ts';

beforeAll(async () => {
  const info = await initBackend('wasm');
  if (info.name !== 'wasm') throw new Error(info.message);
});

/** Every permutation of 0 … n−1. */
function permutations(n: number): number[][] {
  if (n === 0) return [[]];
  return permutations(n - 1).flatMap((p) =>
    Array.from({ length: n }, (_, i) => [...p.slice(0, i), n - 1, ...p.slice(i)]),
  );
}

/** `n` 32-bit patterns: a fixed LCG, and float32's odd ones at the front. */
function bitPatterns(n: number): Uint32Array {
  const special = [0x7fc00001, 0xffa00000, 0x80000000, 0x00000001, 0x7f800000, 0xff7fffff];
  const bits = new Uint32Array(n);
  let s = 12345;
  for (let i = 0; i < n; i++) {
    s = (Math.imul(s, 1103515245) + 12345) >>> 0;
    bits[i] = i < special.length ? special[i] : s;
  }
  return bits;
}

const bitsOf = (t: tf.Tensor) => {
  const d = t.dataSync() as Float32Array | Int32Array;
  return new Uint32Array(d.buffer, d.byteOffset, d.length);
};

const shapes = [
  [5],
  [8],
  [3, 5],
  [8, 8],
  [5, 8],
  [8, 1],
  [3, 5, 8],
  [8, 1, 8],
  [5, 8, 8],
  [3, 5, 8, 1],
  [8, 3, 8, 5],
  [3, 1, 5, 8, 3],
  [8, 3, 5, 1, 8],
  [3, 5, 1, 8, 3, 5],
  [1, 3, 8, 5, 1, 8],
];

/** Every perm of `shape` by our kernel, called directly: the perms whose bits differ from the definition's. */
function wrongPerms(shape: number[], dtype: 'float32' | 'int32'): string[] {
  const bits = bitPatterns(shape.reduce((a, b) => a * b, 1));
  const x =
    dtype === 'float32'
      ? tf.tensor(new Float32Array(bits.buffer), shape, dtype)
      : tf.tensor(new Int32Array(bits.buffer), shape, dtype);
  const wrong: string[] = [];
  for (const perm of permutations(shape.length)) {
    const info = simdTranspose({
      inputs: { x },
      attrs: { perm },
      backend: tf.backend(),
    } as unknown as Parameters<tf.KernelFunc>[0]);
    if (!info) {
      wrong.push(`[${perm}]: not ours`);
      continue;
    }
    const y = tf.engine().makeTensorFromTensorInfo(info);
    const shapeOk = y.shape.join() === perm.map((a) => shape[a]).join() && y.dtype === dtype;
    const want = transposeLoop(bits, shape, perm);
    const got = bitsOf(y);
    if (!shapeOk || want.some((v, i) => v !== got[i])) wrong.push(`[${perm}]`);
    y.dispose();
  }
  x.dispose();
  return wrong;
}

describe('our wasm Transpose, every perm of ranks 1–6', () => {
  for (const shape of shapes)
    for (const dtype of ['float32', 'int32'] as const)
      it(`${shape.join('×')} (${dtype}): bit for bit the definition's, by our kernel`, () => {
        expect(wrongPerms(shape, dtype)).toEqual([]);
      });

  it('an input over 512 KiB (tiles walked a block of the input at a time): every perm bit for bit', () => {
    expect(wrongPerms([67, 5, 3, 131], 'float32')).toEqual([]);
  });

  it("tf.transpose runs ours for float32 and int32, tfjs's for bool, all bit for bit", () => {
    const shape = [8, 3, 5, 8];
    const bits = bitPatterns(8 * 3 * 5 * 8);
    const inputs = [
      tf.tensor(new Float32Array(bits.buffer), shape, 'float32'),
      tf.tensor(new Int32Array(bits.buffer), shape, 'int32'),
      tf.tensor(
        Array.from(bits, (b) => b & 1),
        shape,
        'bool',
      ),
    ];
    const wrong: string[] = [];
    for (const x of inputs)
      for (const perm of permutations(4)) {
        const y = tf.transpose(x, perm);
        const want = transposeLoop(x.dtype === 'bool' ? x.dataSync() : bitsOf(x), shape, perm);
        const got = x.dtype === 'bool' ? y.dataSync() : bitsOf(y);
        if (y.dtype !== x.dtype || want.some((v, i) => v !== got[i]))
          wrong.push(`${x.dtype} [${perm}]`);
        y.dispose();
      }
    tf.dispose(inputs);
    expect(wrong).toEqual([]);
  });

  it('leaves no tensor, byte or heap buffer behind (perms, no-op perms, empty tensors)', () => {
    const backend = tf.backend() as unknown as { numDataIds(): number };
    const x = tf.tensor(
      Array.from({ length: 120 }, (_, i) => i),
      [1, 8, 3, 5],
    );
    const empty = tf.zeros([3, 0, 5]);
    const before = { ...tf.memory(), ids: backend.numDataIds() };
    for (const perm of permutations(4)) tf.transpose(x, perm).dispose();
    tf.transpose(empty, [2, 0, 1]).dispose();
    // the same order of elements: our kernel shares the input's buffer
    const shared = tf.transpose(x, [1, 0, 2, 3]);
    expect(Array.from(shared.dataSync())).toEqual(Array.from(x.dataSync()));
    x.dispose();
    expect(shared.dataSync()[119]).toBe(119);
    shared.dispose();
    empty.dispose();
    const after = tf.memory();
    expect(after.numTensors).toBe(before.numTensors - 2);
    expect(after.numBytes).toBe(before.numBytes - 120 * 4);
    expect(backend.numDataIds()).toBe(before.ids - 2);
  });
});

describe('simplifyTranspose', () => {
  it('drops axes of size 1 and merges input axes that stay neighbours', () => {
    // window partition: [B, h, ws, w, ws, C] → [B, h, w, ws, ws, C]
    expect(simplifyTranspose([2, 32, 4, 32, 4, 32], [0, 1, 3, 2, 4, 5])).toEqual({
      shape: [64, 4, 32, 128],
      perm: [0, 2, 1, 3],
    });
    expect(simplifyTranspose([128, 16, 2, 16], [3, 0, 2, 1])).toEqual({
      shape: [128, 16, 2, 16],
      perm: [3, 0, 2, 1],
    });
    expect(simplifyTranspose([16, 256, 16], [2, 0, 1])).toEqual({
      shape: [4096, 16],
      perm: [1, 0],
    });
    expect(simplifyTranspose([1, 12, 1, 10], [3, 2, 0, 1])).toEqual({
      shape: [12, 10],
      perm: [1, 0],
    });
    expect(simplifyTranspose([2, 3, 4], [0, 1, 2])).toEqual({ shape: [24], perm: [0] });
    expect(simplifyTranspose([1, 1], [1, 0])).toEqual({ shape: [], perm: [] });
  });
});

describe('transposeCalls', () => {
  /** One call of the tile function at the tensors' starts. */
  const tiles = (levels: number[][], extra: number[]) => [
    { body: 'tile', src: 0, dst: 0, levels, extra },
  ];

  it('walks tiles in the output order while the input is at most 512 KiB, else the input a block at a time', () => {
    // [128,16,2,16] → [16,128,2,16]: input strides 512, 32, 16, 1; output 4096, 32, 16, 1 (elements)
    // the input's last axis (16) by 4: 4 tiles, 16 bytes in, 4·4096·4 out; then 128, 2; then 16 by 4
    expect(transposeCalls([128, 16, 2, 16], [3, 0, 2, 1])).toEqual(
      tiles(
        [
          [4, 16, 65536],
          [128, 2048, 128],
          [2, 64, 64],
          [4, 512, 16],
        ],
        [128, 16384],
      ),
    );
    // [256,16,2,32] (1 MiB) → [32,256,2,16]: input strides 1024, 64, 32, 1; output 8192, 32, 16, 1
    expect(transposeCalls([256, 16, 2, 32], [3, 0, 2, 1])).toEqual(
      tiles(
        [
          [256, 4096, 128],
          [2, 128, 64],
          [8, 16, 131072],
          [4, 1024, 16],
        ],
        [256, 32768],
      ),
    );
  });
});
