/**
 * The 3D ops of SwinUNETR / nnFormer (src/ops/vol3d.ts) against the float64
 * plain-loop reference (test/reference/vol3d.ts, from 3D-MAM-SPEC.md §c):
 * forward ≤ 1e-5 relative and tf.grads against float64 central differences
 * ≤ 1e-3, on cpu and wasm. The index rules are checked against the spec's
 * own counts (§c.4).
 */
import * as tf from '#tfjs';
import '@tensorflow/tfjs-backend-wasm';
import { afterAll, describe, expect, it } from 'vitest';
import {
  nnformerIndex3d,
  nnformerWindows3d,
  relativeIndex3d,
  shiftRegions3d,
  swinIndex3d,
  swinWindows3d,
  type Triple,
} from '../../src/graph/geometry3d.ts';
import {
  MERGE_OFFSETS,
  conv3d,
  convTranspose3d,
  instanceNorm3d,
  leakyRelu,
  mergeGather3d,
  relativeBias3d,
  roll3d,
  shiftMask3d,
  windowPartition3d,
  windowReverse3d,
  type Vol,
} from '../../src/ops/vol3d.ts';
import { checkOp, printMeasured, record, values } from '../reference/harness.ts';
import { relErr, Rng, type F64 } from '../reference/math.ts';
import {
  refBias,
  refConv3d,
  refConvT3d,
  refInstanceNorm,
  refLeaky,
  refMergeGather,
  refNnformerIndex,
  refPartition,
  refRoll,
  refShiftMask,
  refSwinIndex,
  type Dims,
} from '../reference/vol3d.ts';

const FWD = 1e-5;
const GRAD = 1e-3;
const size = (s: number[]) => s.reduce((a, b) => a * b, 1);

function expectClose(name: string, r: { forward: number; grad: number }) {
  record(`${name} forward`, r.forward);
  record(`${name} grad`, r.grad);
  expect(r.forward, `${name} forward`).toBeLessThanOrEqual(FWD);
  expect(r.grad, `${name} gradient`).toBeLessThanOrEqual(GRAD);
}

/** PyTorch conv weight (O, C, kd, kh, kw) ↔ tfjs's [kd, kh, kw, C, O], by loop (`toTf` false: back). */
function convLayout3d(w: F64, O: number, C: number, k: number[], toTf: boolean): F64 {
  const out = new Float64Array(w.length);
  for (let o = 0; o < O; o++)
    for (let c = 0; c < C; c++)
      for (let i = 0; i < k[0]; i++)
        for (let j = 0; j < k[1]; j++)
          for (let l = 0; l < k[2]; l++) {
            const tfIx = (((i * k[1] + j) * k[2] + l) * C + c) * O + o;
            const torchIx = (((o * C + c) * k[0] + i) * k[1] + j) * k[2] + l;
            if (toTf) out[tfIx] = w[torchIx];
            else out[torchIx] = w[tfIx];
          }
  return out;
}
const toTfConv = (w: F64, O: number, C: number, k: number[]) => convLayout3d(w, O, C, k, true);
const fromTfConv = (w: F64, O: number, C: number, k: number[]) => convLayout3d(w, O, C, k, false);

describe('3D window geometry and index rules (pure)', () => {
  it('per-axis clamping as the spec tables list it (§b.1, §b.2)', () => {
    // SwinUNETR stage 1 at 96³ (48³ grid): 7³ windows, padded 49³, 343 windows.
    expect(swinWindows3d([48, 48, 48], 7, 3)).toEqual({
      window: [7, 7, 7],
      shift: [3, 3, 3],
      padded: [49, 49, 49],
      count: 343,
      tokens: 343,
    });
    expect(swinWindows3d([24, 24, 24], 7, 3).count).toBe(64);
    const s4 = swinWindows3d([6, 6, 6], 7, 3);
    expect([s4.window, s4.shift, s4.count, s4.tokens]).toEqual([[6, 6, 6], [0, 0, 0], 1, 216]);
    // an anisotropic grid clamps only the short axis
    expect(swinWindows3d([6, 16, 16], 7, 3).window).toEqual([6, 7, 7]);
    expect(swinWindows3d([6, 16, 16], 7, 3).shift).toEqual([0, 3, 3]);
    // nnFormer: 48×24×24 w4 → 432×64; 12×6×6 w8 → clamped 6, 2×216; 6×3×3 w4 → 3, 2×27
    const n0 = nnformerWindows3d([48, 24, 24], 4, 2);
    expect([n0.count, n0.tokens, n0.shift]).toEqual([432, 64, [2, 2, 2]]);
    const n2 = nnformerWindows3d([12, 6, 6], 8, 4);
    expect([n2.window, n2.shift, n2.count, n2.tokens]).toEqual([[6, 6, 6], [0, 0, 0], 2, 216]);
    const n3 = nnformerWindows3d([6, 3, 3], 4, 2);
    expect([n3.count, n3.tokens]).toEqual([2, 27]);
  });

  it('SwinUNETR index equals the spec formula; nnFormer reachable rows as §c.4 counts', () => {
    expect(Array.from(relativeIndex3d(swinIndex3d()))).toEqual(Array.from(refSwinIndex()));
    // §c.4 table: w → (rows, reachable range, rows shared by more than one offset)
    const facts: [number, number, number, number][] = [
      [4, 343, 114, 93],
      [6, 1331, 290, 257],
      [3, 125, 56, 41],
    ];
    for (const [w, rows, maxRow, shared] of facts) {
      const ix = nnformerIndex3d(w);
      const R = relativeIndex3d(ix);
      expect(Array.from(R)).toEqual(Array.from(refNnformerIndex(w)));
      expect(ix.rows).toBe(rows);
      expect(Math.max(...R)).toBe(maxRow);
      expect(Math.min(...R)).toBe(0);
      // offsets (Δd, Δh, Δw) that map to each row
      const offsets = new Map<number, Set<string>>();
      for (let i = 0; i < w ** 3; i++)
        for (let j = 0; j < w ** 3; j++) {
          const key = [
            Math.floor(i / (w * w)) - Math.floor(j / (w * w)),
            (Math.floor(i / w) % w) - (Math.floor(j / w) % w),
            (i % w) - (j % w),
          ].join();
          const r = R[i * w ** 3 + j];
          if (!offsets.has(r)) offsets.set(r, new Set());
          offsets.get(r)!.add(key);
        }
      expect([...offsets.values()].filter((s) => s.size > 1).length, `w=${w}`).toBe(shared);
    }
  });

  it('shift regions equal the reference slices (shifted and unshifted axes)', async () => {
    await tf.setBackend('cpu');
    const cases: [Triple, Triple, Triple][] = [
      [
        [14, 14, 14],
        [7, 7, 7],
        [3, 3, 3],
      ],
      [
        [6, 14, 21],
        [6, 7, 7],
        [0, 3, 3],
      ],
    ];
    for (const [P, w, s] of cases) {
      const ours = shiftRegions3d(P, w, s);
      // labels may differ; equality of labels may not
      const ref = refShiftMask(P, w, s);
      const m = shiftMask3d(ours, P, w);
      expect(relErr(values(m), ref)).toBe(0);
      m.dispose();
    }
  });
});

afterAll(async () => {
  printMeasured('ops-vol3d');
  await tf.setBackend('cpu');
});

for (const backend of ['cpu', 'wasm'] as const) {
  describe(`3D ops on ${backend}`, () => {
    const rng = new Rng(31);
    const set = async () => {
      await tf.setBackend(backend);
      await tf.ready();
    };

    for (const [stride, s] of [
      [
        [1, 2, 2],
        [1, 4, 5, 6, 2],
      ],
      // nnFormer's stem and down-sampling: stride 2 on every axis, odd sides
      [
        [2, 2, 2],
        [2, 5, 4, 7, 2],
      ],
    ] as [Triple, Dims][])
      it(`conv3d 3³, stride (${stride.join(',')}), explicit padding 1, bias`, async () => {
        await set();
        const O = 3;
        const k = [3, 3, 3];
        const x = rng.array(size(s));
        const w = rng.array(O * s[4] * 27, 0.4);
        const b = rng.array(O, 0.3);
        const r = checkOp(
          [
            { data: x, shape: s },
            { data: toTfConv(w, O, s[4], k), shape: [3, 3, 3, s[4], O] },
            { data: b, shape: [O] },
          ],
          (xx, ww, bb) =>
            conv3d(xx as Vol, ww as tf.Tensor5D, bb as tf.Tensor1D, {
              stride,
              padding: [1, 1, 1],
            }),
          (xx, ww, bb) =>
            refConv3d(xx, s, fromTfConv(ww, O, s[4], k), O, k, stride, [1, 1, 1], bb).y,
        );
        expectClose(`${backend} conv3d stride ${stride.join(',')}`, r);
      });

    it('transposed conv3d, kernel = stride (2,2,2) and (1,2,3)', async () => {
      await set();
      for (const k of [
        [2, 2, 2],
        [1, 2, 3],
      ]) {
        const s: Dims = [2, 2, 3, 2, 3];
        const O = 2;
        const x = rng.array(size(s));
        const w = rng.array(s[4] * O * size(k), 0.5);
        const b = rng.array(O, 0.3);
        const r = checkOp(
          [
            { data: x, shape: s },
            { data: w, shape: [s[4], O, ...k] },
            { data: b, shape: [O] },
          ],
          (xx, ww, bb) => convTranspose3d(xx as Vol, ww as tf.Tensor5D, bb as tf.Tensor1D),
          (xx, ww, bb) => refConvT3d(xx, s, ww, O, k, bb),
        );
        expectClose(`${backend} convT3d ${k.join('')}`, r);
      }
    });

    it('instance norm and LeakyReLU 0.01', async () => {
      await set();
      const s: Dims = [2, 3, 2, 4, 3];
      const x = rng.array(size(s), 1, 0.3);
      expectClose(
        `${backend} instanceNorm3d`,
        checkOp(
          [{ data: x, shape: s }],
          (xx) => instanceNorm3d(xx as Vol),
          (xx) => refInstanceNorm(xx, s),
        ),
      );
      // keep entries away from 0, where LeakyReLU has its kink
      const y = x.map((v) => (Math.abs(v) < 0.05 ? v + 0.2 : v));
      expectClose(
        `${backend} leakyRelu`,
        checkOp(
          [{ data: y, shape: s }],
          (xx) => leakyRelu(xx),
          (xx) => refLeaky(xx),
        ),
      );
    });

    it('instance norm at 64³ of data offset from 0 keeps float32 accuracy, forward and gradient', async () => {
      await set();
      // mean 2.5, spread 0.3 per channel: one long float32 running sum over the 64³ voxels
      // drifted 6e-5 relative on wasm; the torch-diff SwinUNETR logits inherited it
      const s: Dims = [1, 64, 64, 64, 2];
      const V = 64 ** 3;
      const x = rng.array(size(s), 0.3, 2.5);
      const g = rng.array(size(s));
      const ref = refInstanceNorm(x, s);
      // its input gradient for the upstream g, in float64: (g − mean g − x̂·mean(g·x̂))/σ
      const dx = new Float64Array(x.length);
      for (let c = 0; c < 2; c++) {
        let [m, q, mg, mgx] = [0, 0, 0, 0];
        for (let v = 0; v < V; v++) m += x[v * 2 + c] / V;
        for (let v = 0; v < V; v++) q += (x[v * 2 + c] - m) ** 2 / V;
        const sd = Math.sqrt(q + 1e-5);
        for (let v = 0; v < V; v++) {
          mg += g[v * 2 + c] / V;
          mgx += (g[v * 2 + c] * ref[v * 2 + c]) / V;
        }
        for (let v = 0; v < V; v++) dx[v * 2 + c] = (g[v * 2 + c] - mg - ref[v * 2 + c] * mgx) / sd;
      }
      const [xt, gt] = [x, g].map((a) => tf.tensor(Float32Array.from(a), s));
      const y = instanceNorm3d(xt as Vol);
      const grad = tf.grad((xx: tf.Tensor) => tf.sum(tf.mul(instanceNorm3d(xx as Vol), gt)))(xt);
      const forward = record(
        `${backend} instanceNorm3d 64³ offset forward`,
        relErr(values(y), ref),
      );
      const backward = record(
        `${backend} instanceNorm3d 64³ offset grad`,
        relErr(values(grad), dx),
      );
      tf.dispose([xt, gt, y, grad]);
      expect(forward).toBeLessThanOrEqual(1e-6);
      expect(backward).toBeLessThanOrEqual(1e-6);
    });

    it('roll, window partition and its exact inverse on an anisotropic window', async () => {
      await set();
      const s: Dims = [2, 4, 6, 6, 2];
      const win: Triple = [2, 3, 2];
      const x = rng.array(size(s));
      expectClose(
        `${backend} roll3d`,
        checkOp(
          [{ data: x, shape: s }],
          (xx) => roll3d(xx as Vol, [1, 2, 3], -1),
          (xx) => refRoll(xx, s, [1, 2, 3]),
        ),
      );
      expectClose(
        `${backend} partition3d`,
        checkOp(
          [{ data: x, shape: s }],
          (xx) => windowPartition3d(xx as Vol, win),
          (xx) => refPartition(xx, s, win),
        ),
      );
      const xt = tf.tensor(Float32Array.from(x), s) as Vol;
      const back = tf.tidy(() =>
        roll3d(
          windowReverse3d(windowPartition3d(roll3d(xt, [1, 2, 3], -1), win), win, [4, 6, 6], 2),
          [1, 2, 3],
          1,
        ),
      );
      expect(relErr(values(back), x)).toBe(0);
      tf.dispose([xt, back]);
    });

    it('relative-position bias: SwinUNETR 7³ (and its top-left 216 block) and nnFormer w=4, 3', async () => {
      await set();
      const heads = 2;
      // SwinUNETR: forward on the full 7³ window; gradient on a 3³ window (same code path).
      const T = rng.array(2197 * heads, 0.5);
      const full = relativeBias3d(tf.tensor2d(Float32Array.from(T), [2197, heads]), swinIndex3d());
      const ref = refBias(T, heads, refSwinIndex(), 343);
      expect(record(`${backend} bias swin 7³`, relErr(values(full), ref))).toBeLessThanOrEqual(FWD);
      // stage 4's 6³ window: the top-left 216×216 block of the 7³ index (§c.4)
      const top = tf.slice(full, [0, 0, 0], [heads, 216, 216]);
      const topRef = new Float64Array(heads * 216 * 216);
      for (let h = 0; h < heads; h++)
        for (let i = 0; i < 216; i++)
          for (let j = 0; j < 216; j++)
            topRef[(h * 216 + i) * 216 + j] = ref[(h * 343 + i) * 343 + j];
      expect(relErr(values(top), topRef)).toBe(0);
      tf.dispose([full, top]);
      for (const [ix, R, N] of [
        [swinIndex3d(3), null, 27],
        [nnformerIndex3d(4), refNnformerIndex(4), 64],
        [nnformerIndex3d(3), refNnformerIndex(3), 27],
      ] as const) {
        const rows = ix.rows;
        const index = R ?? relativeIndex3d(ix);
        expectClose(
          `${backend} bias ${ix.strides.join(',')}`,
          checkOp(
            [{ data: rng.array(rows * heads, 0.5), shape: [rows, heads] }],
            (t) => relativeBias3d(t as tf.Tensor2D, ix),
            (t) => refBias(t, heads, index, N),
          ),
        );
      }
    });

    it('patch-merge gather in both named orders, odd sides padded', async () => {
      await set();
      const s: Dims = [1, 3, 4, 5, 2];
      const x = rng.array(size(s));
      for (const order of ['monai-0.9', 'all-eight'] as const) {
        expectClose(
          `${backend} merge ${order}`,
          checkOp(
            [{ data: x, shape: s }],
            (xx) => mergeGather3d(xx as Vol, order),
            (xx) => refMergeGather(xx, s, MERGE_OFFSETS[order] as unknown as number[][]).y,
          ),
        );
      }
      // the reference order never sees (1,1,0) or (0,1,1)
      const seen = new Set(MERGE_OFFSETS['monai-0.9'].map((o) => o.join('')));
      expect(seen.size).toBe(6);
      expect(seen.has('110') || seen.has('011')).toBe(false);
      // 'all-eight' is MONAI ≥ 1.5's PatchMerging.forward, x0…x7 as its source (1.6.1) slices them
      expect(MERGE_OFFSETS['all-eight'].map((o) => o.join(''))).toEqual([
        '000',
        '100',
        '010',
        '001',
        '110',
        '101',
        '011',
        '111',
      ]);
    });

    it('leaks no tensors', async () => {
      await set();
      const before = tf.memory().numTensors;
      const x = tf.randomNormal([1, 4, 4, 4, 2]) as Vol;
      const w = tf.randomNormal([2, 3, 2, 2, 2]) as tf.Tensor5D;
      const t = tf.randomNormal([343, 2]) as tf.Tensor2D;
      const t3 = tf.randomNormal([125, 2]) as tf.Tensor2D;
      const outs = [
        instanceNorm3d(x),
        convTranspose3d(x, w),
        mergeGather3d(x, 'monai-0.9'),
        relativeBias3d(t, nnformerIndex3d(4)),
        relativeBias3d(t3, swinIndex3d(3)),
      ];
      tf.dispose([x, w, t, t3, ...outs]);
      expect(tf.memory().numTensors).toBe(before);
    });
  });
}
