/**
 * The CNN and dual-attention ops of DA-TransUNet against the float64
 * plain-loop reference (test/reference/cnn.ts, written from
 * DA-TRANSUNET-MAM-SPEC.md §c): forward ≤ 1e-5 and tf.grads against float64
 * central differences ≤ 1e-3, on the cpu and wasm backends; and forward +
 * gradients of a DA head on webgpu (Dawn) equal to cpu.
 */
import * as tf from '#tfjs';
import '@tensorflow/tfjs-backend-wasm';
import { afterAll, describe, expect, it } from 'vitest';
import { initBackend } from '../../src/backend/index.ts';
import {
  batchNorm,
  channelAttention,
  conv2d,
  daHead,
  groupNorm,
  maxPool2d,
  positionAttention,
  standardizeWeight,
  upsampleBilinear,
  zeroPadBottomRight,
  type DaHeadWeights,
} from '../../src/ops/index.ts';
import {
  refBatchMoments,
  refCam,
  refConv,
  refGroupNorm,
  refMaxPool,
  refNormalizeChannels,
  refPam,
  refRelu,
  refStandardize,
  refUpsample,
  type Img,
} from '../reference/cnn.ts';
import { checkOp, printMeasured, record, tensor } from '../reference/harness.ts';
import { maxAbs, relErr, Rng, type F64 } from '../reference/math.ts';

/**
 * PyTorch conv weight `[O, C, k, k]` ↔ ops layout `[k·k·C, O]` (row
 * `(i·k + j)·C + c`), by loop: `toOps` false goes back (for reference
 * functions that receive the ops-layout input).
 */
function convLayout(w: F64, O: number, C: number, k: number, toOps = true): F64 {
  const out = new Float64Array(w.length);
  for (let o = 0; o < O; o++)
    for (let c = 0; c < C; c++)
      for (let i = 0; i < k; i++)
        for (let j = 0; j < k; j++) {
          const torch = ((o * C + c) * k + i) * k + j;
          const ops = ((i * k + j) * C + c) * O + o;
          if (toOps) out[ops] = w[torch];
          else out[torch] = w[ops];
        }
  return out;
}
const opsConv = (w: F64, O: number, C: number, k: number) => convLayout(w, O, C, k);
const torchConv = (w: F64, O: number, C: number, k: number) => convLayout(w, O, C, k, false);

const FWD = 1e-5;
const GRAD = 1e-3;

function expectClose(name: string, r: { forward: number; grad: number }) {
  record(`${name} forward`, r.forward);
  record(`${name} grad`, r.grad);
  expect(r.forward, `${name} forward`).toBeLessThanOrEqual(FWD);
  expect(r.grad, `${name} gradient`).toBeLessThanOrEqual(GRAD);
}

afterAll(async () => {
  printMeasured('ops-cnn');
  await tf.setBackend('cpu');
});

for (const backend of ['cpu', 'wasm'] as const) {
  describe(`CNN ops on ${backend}`, () => {
    const rng = new Rng(11);
    const set = async () => {
      await tf.setBackend(backend);
      await tf.ready();
    };

    const convCase = (
      s: Img,
      O: number,
      k: number,
      stride: number,
      pad: number,
      opts: { bias?: boolean; standardize?: boolean },
    ) => {
      const x = rng.array(s.B * s.H * s.W * s.C);
      const w = opsConv(rng.array(O * s.C * k * k, 0.5, 0.1), O, s.C, k);
      const b = rng.array(O, 0.3);
      const inputs = [
        { data: x, shape: [s.B, s.H, s.W, s.C] },
        { data: w, shape: [k * k * s.C, O] },
        ...(opts.bias ? [{ data: b, shape: [O] }] : []),
      ];
      return checkOp(
        inputs,
        (xx, ww, bb) =>
          conv2d(
            xx as tf.Tensor4D,
            {
              weight: opts.standardize ? standardizeWeight(ww as tf.Tensor2D) : (ww as tf.Tensor2D),
              ...(bb ? { bias: bb as tf.Tensor1D } : {}),
            },
            { kernel: k, stride, padding: pad },
          ),
        (xx, ww, bb) => {
          const wt = torchConv(ww, O, s.C, k);
          return refConv(
            xx,
            s,
            opts.standardize ? refStandardize(wt, O) : wt,
            O,
            k,
            stride,
            pad,
            bb,
          ).y;
        },
      );
    };

    it('conv 3×3, stride 1, pad 1, bias', async () => {
      await set();
      expectClose(
        `${backend} conv3x3`,
        convCase({ B: 2, H: 5, W: 6, C: 3 }, 4, 3, 1, 1, { bias: true }),
      );
    });

    it('conv 3×3, stride 2, pad 1 on an odd grid (9 → 5)', async () => {
      await set();
      expectClose(`${backend} conv3x3/s2`, convCase({ B: 2, H: 9, W: 7, C: 2 }, 3, 3, 2, 1, {}));
    });

    it('StdConv 7×7, stride 2, pad 3 (the ResNet root)', async () => {
      await set();
      expectClose(
        `${backend} stdconv7x7/s2`,
        convCase({ B: 1, H: 10, W: 9, C: 2 }, 3, 7, 2, 3, { standardize: true }),
      );
    });

    it('StdConv 1×1, stride 2 (the projection), no padding', async () => {
      await set();
      expectClose(
        `${backend} stdconv1x1/s2`,
        convCase({ B: 2, H: 7, W: 6, C: 4 }, 5, 1, 2, 0, { standardize: true }),
      );
    });

    it('GroupNorm: 32-group style (eps 1e-6) and per-channel gn_proj (eps 1e-5)', async () => {
      await set();
      const s = { B: 2, H: 3, W: 4, C: 6 };
      for (const [G, eps] of [
        [2, 1e-6],
        [6, 1e-5],
      ]) {
        const r = checkOp(
          [
            { data: rng.array(72 * 2, 1.5, 0.3), shape: [2, 3, 4, 6] },
            { data: rng.array(6, 0.3, 1), shape: [6] },
            { data: rng.array(6, 0.3), shape: [6] },
          ],
          (x, g, b) =>
            groupNorm(
              x as tf.Tensor4D,
              { weight: g as tf.Tensor1D, bias: b as tf.Tensor1D },
              G,
              eps,
            ),
          (x, g, b) => refGroupNorm(x, s, G, g, b, eps),
        );
        expectClose(`${backend} groupnorm G=${G}`, r);
      }
    });

    it('BatchNorm in training: batch statistics, and the running-statistic update', async () => {
      await set();
      const C = 3;
      const x = rng.array(2 * 3 * 2 * C, 2, 0.5);
      const g = rng.array(C, 0.3, 1);
      const b = rng.array(C, 0.3);
      const rm = rng.array(C, 0.5);
      const rv = rng.array(C, 0.2, 1);
      const weights = (gg: tf.Tensor, bb: tf.Tensor) => ({
        weight: gg as tf.Tensor1D,
        bias: bb as tf.Tensor1D,
        runningMean: tensor(rm, [rm.length]) as tf.Tensor1D,
        runningVar: tensor(rv, [rv.length]) as tf.Tensor1D,
      });
      const train = { eps: 1e-3, momentum: 0.95, training: true };
      const r = checkOp(
        [
          { data: x, shape: [2, 3, 2, C] },
          { data: g, shape: [C] },
          { data: b, shape: [C] },
        ],
        (xx, gg, bb) => batchNorm(xx as tf.Tensor4D, weights(gg, bb), train).y,
        (xx, gg, bb) => {
          const m = refBatchMoments(xx, C);
          return refNormalizeChannels(xx, C, m.mean, m.variance, gg, bb, 1e-3);
        },
      );
      expectClose(`${backend} batchnorm train`, r);
      // running ← (1 − m)·running + m·batch, with the unbiased batch variance (n = 12)
      const m = refBatchMoments(x, C);
      const wantMean = rm.map((v, c) => 0.05 * v + 0.95 * m.mean[c]);
      const wantVar = rv.map((v, c) => 0.05 * v + 0.95 * m.variance[c] * (12 / 11));
      const out = tf.tidy(() => {
        const o = batchNorm(
          tensor(x, [2, 3, 2, C]) as tf.Tensor4D,
          weights(tensor(g, [g.length]) as tf.Tensor1D, tensor(b, [b.length]) as tf.Tensor1D),
          train,
        );
        return [o.running!.mean, o.running!.variance];
      });
      expect(relErr(out[0].dataSync(), wantMean)).toBeLessThanOrEqual(1e-6);
      expect(relErr(out[1].dataSync(), wantVar)).toBeLessThanOrEqual(1e-6);
      tf.dispose(out);
    });

    it('BatchNorm in evaluation uses the running statistics', async () => {
      await set();
      const C = 4;
      const rm = rng.array(C, 0.5);
      const rv = rng.array(C, 0.2, 1);
      const r = checkOp(
        [
          { data: rng.array(2 * 2 * 3 * C), shape: [2, 2, 3, C] },
          { data: rng.array(C, 0.3, 1), shape: [C] },
          { data: rng.array(C, 0.3), shape: [C] },
        ],
        (xx, gg, bb) =>
          batchNorm(
            xx as tf.Tensor4D,
            {
              weight: gg as tf.Tensor1D,
              bias: bb as tf.Tensor1D,
              runningMean: tensor(rm, [rm.length]) as tf.Tensor1D,
              runningVar: tensor(rv, [rv.length]) as tf.Tensor1D,
            },
            { eps: 1e-5, momentum: 0.1, training: false },
          ).y,
        (xx, gg, bb) => refNormalizeChannels(xx, C, rm, rv, gg, bb, 1e-5),
      );
      expectClose(`${backend} batchnorm eval`, r);
    });

    it('max pool 3×3 stride 2 without padding (11 → 5) and with padding 1', async () => {
      await set();
      const s = { B: 2, H: 11, W: 9, C: 2 };
      for (const pad of [0, 1]) {
        const r = checkOp(
          [{ data: rng.array(2 * 11 * 9 * 2), shape: [2, 11, 9, 2] }],
          (x) => maxPool2d(x as tf.Tensor4D, { kernel: 3, stride: 2, padding: pad }),
          (x) => refMaxPool(x, s, 3, 2, pad).y,
        );
        expectClose(`${backend} maxpool p${pad}`, r);
      }
    });

    it('bilinear ×2 with align_corners = true, and zero padding bottom/right', async () => {
      await set();
      const s = { B: 2, H: 3, W: 4, C: 2 };
      const r = checkOp(
        [{ data: rng.array(48), shape: [2, 3, 4, 2] }],
        (x) => upsampleBilinear(x as tf.Tensor4D, 2),
        (x) => refUpsample(x, s, 2).y,
      );
      expectClose(`${backend} upsample`, r);
      const pad = checkOp(
        [{ data: rng.array(48), shape: [2, 3, 4, 2] }],
        (x) => zeroPadBottomRight(x as tf.Tensor4D, 1, 1),
        (x) => {
          const y = new Float64Array(2 * 4 * 5 * 2);
          for (let b = 0; b < 2; b++)
            for (let i = 0; i < 3; i++)
              for (let j = 0; j < 4; j++)
                for (let c = 0; c < 2; c++)
                  y[((b * 4 + i) * 5 + j) * 2 + c] = x[((b * 3 + i) * 4 + j) * 2 + c];
          return y;
        },
      );
      expectClose(`${backend} zero pad`, pad);
    });

    it('PAM (no 1/√d) and CAM (max-minus), gradients into every weight and γ', async () => {
      await set();
      const s = { B: 2, H: 3, W: 3, C: 8 };
      const d = 1;
      const pam = checkOp(
        [
          { data: rng.array(2 * 9 * 8, 0.7), shape: [2, 3, 3, 8] },
          { data: rng.array(d * 8, 0.5), shape: [8, d] },
          { data: rng.array(d, 0.3), shape: [d] },
          { data: rng.array(d * 8, 0.5), shape: [8, d] },
          { data: rng.array(d, 0.3), shape: [d] },
          { data: rng.array(64, 0.4), shape: [8, 8] },
          { data: rng.array(8, 0.3), shape: [8] },
          { data: Float64Array.of(0.7), shape: [1] },
        ],
        (x, wq, bq, wk, bk, wv, bv, g) =>
          positionAttention(x as tf.Tensor4D, {
            query: { weight: wq as tf.Tensor2D, bias: bq as tf.Tensor1D },
            key: { weight: wk as tf.Tensor2D, bias: bk as tf.Tensor1D },
            value: { weight: wv as tf.Tensor2D, bias: bv as tf.Tensor1D },
            gamma: g,
          }),
        // ours are [in, out]; the reference takes PyTorch's [out, in] (= transposed)
        (x, wq, bq, wk, bk, wv, bv, g) =>
          refPam(x, s, {
            wq: transpose(wq, 8, d),
            bq,
            wk: transpose(wk, 8, d),
            bk,
            wv: transpose(wv, 8, 8),
            bv,
            gamma: g[0],
          }),
      );
      expectClose(`${backend} pam`, pam);
      const cam = checkOp(
        [
          { data: rng.array(2 * 9 * 8, 0.4), shape: [2, 3, 3, 8] },
          { data: Float64Array.of(-0.6), shape: [1] },
        ],
        (x, g) => channelAttention(x as tf.Tensor4D, g),
        (x, g) => refCam(x, s, g[0]),
      );
      expectClose(`${backend} cam`, cam);
    });

    it('DA head = ReLU(conv8(CBR(PAM(CBR x)) + CBR(CAM(CBR x)))), training and evaluation', async () => {
      await set();
      const p = randomDaHead(rng, 16, 8);
      const x = rng.array(2 * 4 * 4 * 16);
      const s = { B: 2, H: 4, W: 4, C: 16 };
      for (const training of [true, false]) {
        const r = checkOp(
          [
            { data: x, shape: [2, 4, 4, 16] },
            ...p.list.map((a) => ({ data: a.data, shape: a.shape })),
          ],
          (xx, ...ws) =>
            daHead(xx as tf.Tensor4D, p.weights(ws), { eps: 1e-3, momentum: 0.95, training }).y,
          (xx, ...ws) => refDaHead(xx, s, ws, p.rv, training),
        );
        expectClose(`${backend} da head ${training ? 'train' : 'eval'}`, r);
      }
    });
  });
}

const transpose = (w: F64, r: number, c: number): F64 => {
  const out = new Float64Array(w.length);
  for (let i = 0; i < r; i++) for (let j = 0; j < c; j++) out[j * r + i] = w[i * c + j];
  return out;
};

/** A DA head's trainable inputs, in ops layout, and the running statistics (fixed). */
function randomDaHead(rng: Rng, C: number, c: number) {
  const d = c / 8;
  const shapes: [string, number[], number, number][] = [
    ['conv5a', [9 * C, c], 0.2, 0],
    ['conv5a.g', [c], 0.2, 1],
    ['conv5a.b', [c], 0.2, 0],
    ['conv5c', [9 * C, c], 0.2, 0],
    ['conv5c.g', [c], 0.2, 1],
    ['conv5c.b', [c], 0.2, 0],
    ['wq', [c, d], 0.4, 0],
    ['bq', [d], 0.2, 0],
    ['wk', [c, d], 0.4, 0],
    ['bk', [d], 0.2, 0],
    ['wv', [c, c], 0.3, 0],
    ['bv', [c], 0.2, 0],
    ['gsa', [1], 0.5, 0.3],
    ['gsc', [1], 0.5, -0.3],
    ['conv51', [9 * c, c], 0.2, 0],
    ['conv51.g', [c], 0.2, 1],
    ['conv51.b', [c], 0.2, 0],
    ['conv52', [9 * c, c], 0.2, 0],
    ['conv52.g', [c], 0.2, 1],
    ['conv52.b', [c], 0.2, 0],
    ['conv8', [c, C], 0.3, 0],
    ['conv8.b', [C], 0.2, 0],
  ];
  const list = shapes.map(([, shape, std, mean]) => ({
    data: rng.array(
      shape.reduce((a, b) => a * b, 1),
      std,
      mean,
    ),
    shape,
  }));
  // running statistics of conv5a, conv5c, conv51, conv52 (mean, var)
  const rv = Array.from({ length: 4 }, () => ({
    mean: rng.array(c, 0.3),
    variance: rng.array(c, 0.2, 1),
  }));
  const weights = (ws: tf.Tensor[]): DaHeadWeights => {
    const cb = (i: number, r: number) => ({
      conv: { weight: ws[i] as tf.Tensor2D },
      bn: {
        weight: ws[i + 1] as tf.Tensor1D,
        bias: ws[i + 2] as tf.Tensor1D,
        runningMean: tensor(rv[r].mean, [rv[r].mean.length]) as tf.Tensor1D,
        runningVar: tensor(rv[r].variance, [rv[r].variance.length]) as tf.Tensor1D,
      },
    });
    return {
      conv5a: cb(0, 0),
      conv5c: cb(3, 1),
      sa: {
        query: { weight: ws[6] as tf.Tensor2D, bias: ws[7] as tf.Tensor1D },
        key: { weight: ws[8] as tf.Tensor2D, bias: ws[9] as tf.Tensor1D },
        value: { weight: ws[10] as tf.Tensor2D, bias: ws[11] as tf.Tensor1D },
        gamma: ws[12],
      },
      scGamma: ws[13],
      conv51: cb(14, 2),
      conv52: cb(17, 3),
      conv8: { weight: ws[20] as tf.Tensor2D, bias: ws[21] as tf.Tensor1D },
    };
  };
  return { list, weights, rv };
}

/** The DA head in float64 from the reference pieces (§c.4), same input order as randomDaHead. */
function refDaHead(
  x: F64,
  s: Img,
  ws: F64[],
  rv: { mean: F64; variance: F64 }[],
  training: boolean,
): F64 {
  const C = s.C;
  const c = ws[4].length;
  const d = c / 8;
  const cbr = (t: F64, ts: Img, i: number, r: number) => {
    const y = refConv(t, ts, torchConv(ws[i], c, ts.C, 3), c, 3, 1, 1).y;
    const m = training ? refBatchMoments(y, c) : rv[r];
    return refRelu(refNormalizeChannels(y, c, m.mean, m.variance, ws[i + 1], ws[i + 2], 1e-3));
  };
  const inner = { ...s, C: c };
  const pam = refPam(cbr(x, s, 0, 0), inner, {
    wq: transpose(ws[6], c, d),
    bq: ws[7],
    wk: transpose(ws[8], c, d),
    bk: ws[9],
    wv: transpose(ws[10], c, c),
    bv: ws[11],
    gamma: ws[12][0],
  });
  const p = cbr(pam, inner, 14, 2);
  const q = cbr(refCam(cbr(x, s, 3, 1), inner, ws[13][0]), inner, 17, 3);
  const sum = p.map((v, i) => v + q[i]);
  return refRelu(refConv(sum, inner, torchConv(ws[20], C, c, 1), C, 1, 1, 0, ws[21]).y);
}

describe('DA head, max pool, up-sampling, GroupNorm and a strided StdConv on webgpu (Dawn) equal cpu', () => {
  it('forward and gradients ≤ 1e-4 relative', async (ctx) => {
    const run = async (name: string) => {
      const info = await initBackend(name as 'cpu' | 'webgpu');
      if (info.name !== name) return null;
      const rng = new Rng(5);
      const p = randomDaHead(rng, 16, 8);
      const x = tensor(rng.array(2 * 4 * 4 * 16), [2, 4, 4, 16]);
      const ws = p.list.map((a) => tensor(a.data, a.shape));
      // a random readout: a sum of squares would make the normalisations' gradients vanish
      const r = tensor(rng.array(2 * 2 * 2 * 8), [2, 2, 2, 8]);
      const f = (xx: tf.Tensor, ...w: tf.Tensor[]) => {
        const h = daHead(xx as tf.Tensor4D, p.weights(w), {
          eps: 1e-3,
          momentum: 0.95,
          training: true,
        });
        const up = upsampleBilinear(maxPool2d(h.y, { kernel: 3, stride: 2, padding: 1 }), 2);
        const gn = groupNorm(
          up,
          { weight: w[21] as tf.Tensor1D, bias: w[21] as tf.Tensor1D },
          2,
          1e-6,
        );
        const std = { weight: standardizeWeight(w[0] as tf.Tensor2D) };
        return tf.sum(tf.mul(conv2d(gn, std, { kernel: 3, stride: 2, padding: 1 }), r));
      };
      const grads = tf.grads(f)([x, ...ws]);
      const out = [];
      for (const g of grads) out.push(Float64Array.from(await g.data()));
      tf.dispose([x, r, ...ws, ...grads]);
      return out;
    };
    const cpu = (await run('cpu'))!;
    const gpu = await run('webgpu');
    await initBackend('cpu');
    if (!gpu) {
      console.warn('ops-cnn: webgpu skipped, no adapter here');
      ctx.skip();
    }
    let worst = 0;
    // PAM's key bias has an exactly zero gradient (softmax over keys ignores a
    // per-query constant); floor the scale so float noise there does not count.
    cpu.forEach((a, i) => {
      const scale = Math.max(maxAbs(a), 1e-3);
      worst = Math.max(worst, (relErr(gpu![i], a) * maxAbs(a)) / scale);
    });
    record('webgpu vs cpu DA head grads', worst);
    expect(worst).toBeLessThanOrEqual(1e-4);
  });
});
