/**
 * Our strided batched product on wasm (src/backend/wasm-batched-product.ts,
 * gemmBatched of wasm-gemm-simd.ts) in the layouts window attention reads
 * and writes: q·kᵀ from tokens `[W, N, h·d]` into scores `[W, h, N, N]`,
 * P·v and Pᵀ·dy from scores and tokens into tokens. Against plain loops
 * that index the tensors directly: float64 within the float32 rounding
 * bound, and bit for bit float32 sums in k order (the SIMD kernel's and the
 * JavaScript fallback's promise); windows × heads × N × d over N not a
 * multiple of 4 or 8, 1–4 heads, d 16 and 32, and K past one block of B's
 * rows (256); a chunk of windows of each sample read from an element
 * offset (3D attention). Strides reaching outside an operand are refused; the
 * attention core over it gives the same bits on the threaded build (2
 * threads, shared memory) as on one thread; no tensor is left behind.
 */
import { cpus } from 'node:os';
import * as path from 'node:path';
import * as tf from '#tfjs';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { initBackend } from '../../src/backend/index.ts';
import {
  BATCHED_PRODUCT,
  batchedProductInJs,
  type BatchedProductAttrs,
  type OperandStrides,
} from '../../src/backend/wasm-batched-product.ts';
import { Rng } from '../reference/math.ts';
import { repoRoot, spawnNode } from '../helpers/mam-cli.ts';
import { attentionCoreRun } from './attention-core-run.ts';

beforeAll(async () => {
  const info = await initBackend('wasm', { threads: 1 });
  expect(info.name).toBe('wasm');
});

afterAll(async () => {
  await tf.setBackend('cpu');
});

const EPS32 = 2 ** -24;

/** [windows, heads, tokens, d] */
const SHAPES: [number, number, number, number][] = [
  [3, 1, 16, 16],
  [2, 2, 7, 16],
  [5, 4, 13, 16],
  [1, 4, 9, 32],
  [2, 3, 49, 32],
  [2, 2, 1, 16],
  [1, 1, 300, 16],
];

/** Where a product writes: the output's shape, C's strides (window, head, row) and C(w, head, i, j)'s index. */
interface Output {
  shape: number[];
  c: [number, number, number];
  at: (w: number, head: number, i: number, j: number) => number;
}

interface Case {
  name: string;
  MNK: [number, number, number];
  /** elements of A and B */
  sizes: [number, number];
  out: Output;
  attrs: BatchedProductAttrs;
  /** A(w, head, i, k) and B(w, head, k, j) by direct indexing */
  A: (a: Float32Array, w: number, head: number, i: number, k: number) => number;
  B: (b: Float32Array, w: number, head: number, k: number, j: number) => number;
}

/** The three layouts of attention's products for windows W, heads h, tokens N, head width d. */
function cases(W: number, h: number, N: number, d: number): Case[] {
  const C = h * d;
  const tok = (t: Float32Array, w: number, head: number, n: number, f: number) =>
    t[(w * N + n) * C + head * d + f];
  const sco = (s: Float32Array, w: number, head: number, i: number, j: number) =>
    s[((w * h + head) * N + i) * N + j];
  const tokens: Output = {
    shape: [W, N, C],
    c: [N * C, d, C],
    at: (w, hd, i, j) => (w * N + i) * C + hd * d + j,
  };
  const scores: Output = {
    shape: [W, h, N, N],
    c: [h * N * N, N * N, N],
    at: (w, hd, i, j) => ((w * h + hd) * N + i) * N + j,
  };
  const [tokenSize, scoreSize] = [W * N * C, W * h * N * N];
  const make = (
    name: string,
    [M, n, K]: [number, number, number],
    [a, b]: [OperandStrides, OperandStrides],
    out: Output,
    A: Case['A'],
    B: Case['B'],
  ): Case => ({
    name,
    MNK: [M, n, K],
    sizes: [out === scores ? tokenSize : scoreSize, tokenSize],
    out,
    attrs: { M, N: n, K, windows: W, heads: h, a, b, c: out.c, shape: out.shape },
    A,
    B,
  });
  return [
    make(
      'q·kᵀ → scores',
      [N, N, d],
      [
        [N * C, d, C, 1],
        [N * C, d, 1, C],
      ],
      scores,
      (q, w, hd, i, k) => tok(q, w, hd, i, k),
      (kk, w, hd, k, j) => tok(kk, w, hd, j, k),
    ),
    make(
      'P·v → tokens',
      [N, d, N],
      [
        [h * N * N, N * N, N, 1],
        [N * C, d, C, 1],
      ],
      tokens,
      (p, w, hd, i, k) => sco(p, w, hd, i, k),
      (v, w, hd, k, j) => tok(v, w, hd, k, j),
    ),
    make(
      'Pᵀ·dy → tokens',
      [N, d, N],
      [
        [h * N * N, N * N, 1, N],
        [N * C, d, C, 1],
      ],
      tokens,
      (p, w, hd, i, k) => sco(p, w, hd, k, i),
      (dy, w, hd, k, j) => tok(dy, w, hd, k, j),
    ),
  ];
}

/** Float64 sums, their Σ|terms|, and float32 sums in k order, per output element. */
function reference(c: Case, W: number, h: number, a: Float32Array, b: Float32Array) {
  const size = c.out.shape.reduce((x, y) => x * y, 1);
  const [exact, abs, inOrder] = [0, 1, 2].map(() => new Float64Array(size).fill(NaN));
  const [M, N, K] = c.MNK;
  for (let w = 0; w < W; w++)
    for (let head = 0; head < h; head++)
      for (let i = 0; i < M; i++)
        for (let j = 0; j < N; j++) {
          let [s, t, f] = [0, 0, 0];
          for (let k = 0; k < K; k++) {
            const x = c.A(a, w, head, i, k) * c.B(b, w, head, k, j);
            s += x;
            t += Math.abs(x);
            f = Math.fround(f + Math.fround(x));
          }
          const o = c.out.at(w, head, i, j);
          [exact[o], abs[o], inOrder[o]] = [s, t, f];
        }
  return { exact, abs, inOrder };
}

describe('the strided batched product on wasm', () => {
  it("reads attention's layouts in place: float64 within rounding, float32 in k order bit for bit", () => {
    const rng = new Rng(15);
    const before = tf.memory().numTensors;
    for (const [W, h, N, d] of SHAPES)
      for (const c of cases(W, h, N, d)) {
        const label = `${c.name} W${W} h${h} N${N} d${d}`;
        const a = Float32Array.from(rng.array(c.sizes[0]));
        const b = Float32Array.from(rng.array(c.sizes[1]));
        const { attrs } = c;
        const got = tf.tidy(() => {
          const out = tf
            .engine()
            .runKernel(
              BATCHED_PRODUCT,
              { a: tf.tensor1d(a), b: tf.tensor1d(b) },
              attrs as unknown as tf.NamedAttrMap,
            ) as tf.Tensor;
          expect(out.shape, label).toEqual(c.out.shape);
          return out.dataSync() as Float32Array;
        });
        const want = reference(c, W, h, a, b);
        expect(Array.from(got), label).toEqual(Array.from(want.inOrder));
        const K = c.MNK[2];
        for (let n = 0; n < got.length; n++)
          expect(Math.abs(got[n] - want.exact[n]), label).toBeLessThanOrEqual(
            (K + 2) * EPS32 * want.abs[n],
          );
        // the JavaScript fallback (no SIMD) gives the same bits
        const js = new Float32Array(got.length);
        batchedProductInJs(attrs, a, b, js);
        expect(Array.from(js), `${label} (JavaScript)`).toEqual(Array.from(want.inOrder));
      }
    expect(tf.memory().numTensors).toBe(before);
  });

  it('reads a chunk of windows of each sample from an offset (3D attention, [B·nW, h, N, d]): float64 within rounding, JavaScript bit for bit', () => {
    const rng = new Rng(21);
    const before = tf.memory().numTensors;
    // 2 samples of 5 windows, 3 heads of 7 tokens × 8; windows 2…3 of each: q·kᵀ, then P·v
    const [S, nW, h, N, d, first, count] = [2, 5, 3, 7, 8, 2, 2];
    const tok = N * d;
    const at = (w: number, head: number, i: number, t: number) => ((w * h + head) * N + i) * d + t;
    const q = Float32Array.from(rng.array(S * nW * h * tok));
    const k = Float32Array.from(rng.array(S * nW * h * tok));
    const p = Float32Array.from(rng.array(S * count * h * N * N));
    const sample = nW * h * tok;
    const products: {
      attrs: BatchedProductAttrs;
      a: Float32Array;
      b: Float32Array;
      want: (s: number, e: number, i: number, j: number) => number[];
    }[] = [
      {
        // entry (s, e = window·h + head): q·kᵀ [N, N]
        attrs: {
          M: N,
          N,
          K: d,
          windows: S,
          heads: count * h,
          a: [sample, tok, d, 1],
          b: [sample, tok, 1, d],
          c: [count * h * N * N, N * N, N],
          shape: [S * count, h, N, N],
          aOffset: first * h * tok,
          bOffset: first * h * tok,
        },
        a: q,
        b: k,
        want: (s, e, i, j) => {
          const w = s * nW + first + Math.floor(e / h);
          return Array.from({ length: d }, (_, t) => q[at(w, e % h, i, t)] * k[at(w, e % h, j, t)]);
        },
      },
      {
        // P [S·count, h, N, N] · v (= q here) [N, d]
        attrs: {
          M: N,
          N: d,
          K: N,
          windows: S,
          heads: count * h,
          a: [count * h * N * N, N * N, N, 1],
          b: [sample, tok, d, 1],
          c: [count * h * tok, tok, d],
          shape: [S * count, h, N, d],
          bOffset: first * h * tok,
        },
        a: p,
        b: q,
        want: (s, e, i, j) => {
          const w = s * nW + first + Math.floor(e / h);
          return Array.from(
            { length: N },
            (_, m) => p[((s * count * h + e) * N + i) * N + m] * q[at(w, e % h, m, j)],
          );
        },
      },
    ];
    for (const { attrs, a, b, want } of products) {
      const got = tf.tidy(() =>
        (
          tf
            .engine()
            .runKernel(
              BATCHED_PRODUCT,
              { a: tf.tensor1d(a), b: tf.tensor1d(b) },
              attrs as unknown as tf.NamedAttrMap,
            ) as tf.Tensor
        ).dataSync(),
      );
      const js = new Float32Array(got.length);
      batchedProductInJs(attrs, a, b, js);
      expect(Array.from(js)).toEqual(Array.from(got));
      for (let s = 0; s < S; s++)
        for (let e = 0; e < count * h; e++)
          for (let i = 0; i < attrs.M; i++)
            for (let j = 0; j < attrs.N; j++) {
              const terms = want(s, e, i, j);
              const exact = terms.reduce((x, y) => x + y, 0);
              const abs = terms.reduce((x, y) => x + Math.abs(y), 0);
              const o = ((s * count * h + e) * attrs.M + i) * attrs.N + j;
              expect(Math.abs(got[o] - exact)).toBeLessThanOrEqual((attrs.K + 2) * EPS32 * abs);
            }
      // one window further and the last sample's chunk would reach past the operand
      const past = { ...attrs, bOffset: (attrs.bOffset ?? 0) + (nW - first - count + 1) * h * tok };
      expect(() =>
        tf.tidy(() =>
          tf
            .engine()
            .runKernel(
              BATCHED_PRODUCT,
              { a: tf.tensor1d(a), b: tf.tensor1d(b) },
              past as unknown as tf.NamedAttrMap,
            ),
        ),
      ).toThrow(/MamBatchedProduct: strides .* do not fit/);
    }
    expect(tf.memory().numTensors).toBe(before);
  });

  it('refuses strides that reach outside an operand, naming the kernel', () => {
    const before = tf.memory().numTensors;
    const [W, h, N, d] = [2, 2, 4, 16];
    const { attrs } = cases(W, h, N, d)[0];
    const run = (a: number) =>
      tf.tidy(() =>
        tf
          .engine()
          .runKernel(
            BATCHED_PRODUCT,
            { a: tf.zeros([a]), b: tf.zeros([W * N * h * d]) },
            attrs as unknown as tf.NamedAttrMap,
          ),
      );
    expect(() => run(W * N * h * d - 1)).toThrow(/MamBatchedProduct: strides .* do not fit/);
    expect(tf.memory().numTensors).toBe(before);
  });

  it("gives the attention core's output and gradients bit for bit on 2 threads (the threaded build, windows in chunks on the helper) as on 1", async () => {
    const child = path.join(repoRoot, 'test', 'unit', 'backend-wasm-batched-product-child.ts');
    const r = await spawnNode(['--import', 'tsx', child], repoRoot);
    expect(r.code, r.stderr).toBe(0);
    const line = r.stdout.split('\n').find((l) => l.startsWith('{'));
    expect(line, r.stdout).toBeDefined();
    const out = JSON.parse(line!) as {
      adapterInfo: string;
      values: number[][];
      large: number[][];
      chunks: number;
      byHelpers: number;
      tensorsLeft: number;
    };
    const threads = Math.min(2, cpus().length);
    expect(out.adapterInfo).toBe(`WebAssembly SIMD, ${threads} thread${threads === 1 ? '' : 's'}`);
    const before = tf.memory().numTensors;
    const here = attentionCoreRun();
    expect(tf.memory().numTensors).toBe(before);
    expect(out.values).toHaveLength(5);
    out.values.forEach((v, i) => expect(v, `value ${i}`).toEqual(here[i]));
    const large = attentionCoreRun('large');
    expect(out.large).toHaveLength(5);
    out.large.forEach((v, i) => expect(v, `large value ${i}`).toEqual(large[i]));
    if (threads === 2) {
      // 16 windows of 3·49·49·32 multiply-adds a product: 4 chunks of 4 windows
      // for each of the six products (and other kernels' chunks), every one run by the helper
      expect(out.chunks).toBeGreaterThanOrEqual(6 * 4);
      expect(out.byHelpers).toBe(out.chunks);
    }
    expect(out.tensorsLeft).toBe(0);
  });
});
