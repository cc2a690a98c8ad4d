/**
 * Per-token layers and grid-changing nodes vs the float64 reference:
 * forward ≤ 1e-5 relative, tf.grads ≤ 1e-4 relative to float64 central
 * differences of the reference, for every entry of every input.
 */
import * as tf from '#tfjs';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import {
  addPositionEmbedding,
  convWeightToLinear,
  dropPath,
  finalExpanding,
  gelu,
  layerNorm,
  linear,
  linearSkip,
  linearWeightFromTorch,
  memoryExpanding,
  memoryMerging,
  mlp,
  patchEmbed,
  patchExpanding,
  patchify,
  patchMerging,
  pixelShuffle,
  segmentationHead,
  type MemoryLayout,
} from '../../src/ops/index.ts';
import { gelu as refGelu, layerNormRows, matmulBias, Rng } from '../reference/math.ts';
import {
  refExpanding,
  refLinearSkip,
  refMemoryExpanding,
  refMemoryMerging,
  refPatchEmbed,
  refPatchMerging,
  refPixelShuffle,
  refSegHead,
} from '../reference/ops.ts';
import { checkOp, printMeasured, record, tensor, values } from '../reference/harness.ts';

beforeAll(async () => {
  await tf.setBackend('cpu');
});
afterAll(() => printMeasured('ops-resample'));

const rng = new Rng(5);
const inp = (shape: number[], std = 1, mean = 0) => ({
  data: rng.array(
    shape.reduce((a, b) => a * b, 1),
    std,
    mean,
  ),
  shape,
});
const norm = (C: number) => [inp([C], 0.2, 1), inp([C], 0.2)];

function expectOp(name: string, r: { forward: number; grad: number }): void {
  record(`${name} forward`, r.forward);
  record(`${name} grad`, r.grad);
  expect(r.forward).toBeLessThan(1e-5);
  expect(r.grad).toBeLessThan(1e-4);
}

describe('per-token layers', () => {
  it('linear, layer norm, gelu, mlp, position embedding', () => {
    const n = 6;
    const C = 8;
    expectOp(
      'linear',
      checkOp(
        [inp([n, C]), inp([C, 5]), inp([5])],
        (x, w, b) => linear(x, { weight: w as tf.Tensor2D, bias: b as tf.Tensor1D }),
        (x, w, b) => matmulBias(x, n, C, w, 5, b),
      ),
    );
    expectOp(
      'layer norm',
      checkOp(
        [inp([n, C], 2, 0.5), ...norm(C)],
        (x, g, b) => layerNorm(x, { weight: g as tf.Tensor1D, bias: b as tf.Tensor1D }),
        (x, g, b) => layerNormRows(x, n, C, g, b),
      ),
    );
    expectOp(
      'gelu',
      checkOp(
        [inp([n, C], 2)],
        (x) => gelu(x),
        (x) => x.map(refGelu),
      ),
    );
    expectOp(
      'mlp',
      checkOp(
        [inp([n, C]), inp([C, 16], 0.4), inp([16], 0.2), inp([16, C], 0.3), inp([C], 0.2)],
        (x, w1, b1, w2, b2) =>
          mlp(x, {
            fc1: { weight: w1 as tf.Tensor2D, bias: b1 as tf.Tensor1D },
            fc2: { weight: w2 as tf.Tensor2D, bias: b2 as tf.Tensor1D },
          }),
        (x, w1, b1, w2, b2) =>
          matmulBias(matmulBias(x, n, C, w1, 16, b1).map(refGelu), n, 16, w2, C, b2),
      ),
    );
    expectOp(
      'position embedding',
      checkOp(
        [inp([2, 4, C]), inp([4, C])],
        (x, t) => addPositionEmbedding(x as tf.Tensor3D, t as tf.Tensor2D),
        (x, t) => x.map((v, i) => v + t[i % (4 * C)]),
      ),
    );
  });

  it('drop-path: per sample, 1/keep scaling, seeded, identity in inference', () => {
    const x = tf.ones([64, 3, 2]);
    const y = dropPath(x, { rate: 0.25, training: true, seed: 9 });
    const v = y.arraySync() as number[][][];
    let kept = 0;
    for (const s of v) {
      const flat = s.flat();
      expect(flat.every((e) => e === flat[0])).toBe(true);
      expect([0, 1 / 0.75].some((e) => Math.abs(flat[0] - e) < 1e-6)).toBe(true);
      if (flat[0] !== 0) kept++;
    }
    expect(kept).toBeGreaterThan(32);
    expect(kept).toBeLessThan(64);
    const y2 = dropPath(x, { rate: 0.25, training: true, seed: 9 });
    expect(Array.from(y2.dataSync())).toEqual(Array.from(y.dataSync()));
    const inf = dropPath(x, { rate: 0.25, training: false, seed: 9 });
    expect(Array.from(inf.dataSync())).toEqual(Array.from(x.dataSync()));
    tf.dispose([x, y, y2, inf]);
  });

  it('weight conversions from PyTorch layouts', () => {
    const w = tf.tensor2d([
      [1, 2, 3],
      [4, 5, 6],
    ]); // [out 2, in 3]
    expect(linearWeightFromTorch(w).arraySync()).toEqual([
      [1, 4],
      [2, 5],
      [3, 6],
    ]);
    // W_lin[(i·p + j)·Cin + c, o] = W_conv[o, c, i, j]
    const [O, Cin, p] = [3, 2, 2];
    const conv = tf.tensor4d(
      Array.from({ length: O * Cin * p * p }, (_, k) => k),
      [O, Cin, p, p],
    );
    const lin = convWeightToLinear(conv).arraySync() as number[][];
    const cv = conv.arraySync() as number[][][][];
    for (let o = 0; o < O; o++)
      for (let c = 0; c < Cin; c++)
        for (let i = 0; i < p; i++)
          for (let j = 0; j < p; j++) expect(lin[(i * p + j) * Cin + c][o]).toBe(cv[o][c][i][j]);
    tf.dispose([w, conv]);
  });
});

describe('grid nodes', () => {
  it('patchify flattening rule: feature (i·p + j)·Cin + c of patch (hp, wp) = img[hp·p + i, wp·p + j, c]', () => {
    const [B, H, W, Cin, p] = [2, 8, 4, 3, 2];
    const img = tensor(inp([B, H, W, Cin]).data, [B, H, W, Cin]) as tf.Tensor4D;
    const t = patchify(img, p).arraySync() as number[][][];
    const a = img.arraySync() as number[][][][];
    for (let b = 0; b < B; b++)
      for (let hp = 0; hp < H / p; hp++)
        for (let wp = 0; wp < W / p; wp++)
          for (let i = 0; i < p; i++)
            for (let j = 0; j < p; j++)
              for (let c = 0; c < Cin; c++)
                expect(t[b][hp * (W / p) + wp][(i * p + j) * Cin + c]).toBe(
                  a[b][hp * p + i][wp * p + j][c],
                );
    img.dispose();
  });

  it('patch embed = conv p×p stride p (+bias) then LN', () => {
    const [B, H, W, Cin, p, Co] = [2, 8, 8, 3, 4, 8];
    expectOp(
      'patch embed',
      checkOp(
        [inp([B, H, W, Cin]), inp([Co, Cin, p, p], 0.3), inp([Co], 0.2), ...norm(Co)],
        (img, wc, b, nw, nb) =>
          patchEmbed(
            img as tf.Tensor4D,
            {
              proj: { weight: convWeightToLinear(wc as tf.Tensor4D), bias: b as tf.Tensor1D },
              norm: { weight: nw as tf.Tensor1D, bias: nb as tf.Tensor1D },
            },
            p,
          ),
        (img, wc, b, nw, nb) => refPatchEmbed(img, B, H, W, Cin, wc, b, Co, p, { w: nw, b: nb }),
      ),
    );
  });

  it('patch merging (neighbours (0,0), (1,0), (0,1), (1,1))', () => {
    const [B, H, W, C] = [2, 4, 4, 4];
    expectOp(
      'patch merging',
      checkOp(
        [inp([B, H * W, C]), ...norm(4 * C), inp([4 * C, 2 * C], 0.3)],
        (x, nw, nb, wr) =>
          patchMerging(
            x as tf.Tensor3D,
            {
              norm: { weight: nw as tf.Tensor1D, bias: nb as tf.Tensor1D },
              reduction: { weight: wr as tf.Tensor2D },
            },
            [H, W],
          ),
        (x, nw, nb, wr) => refPatchMerging(x, B, H, W, C, nw, nb, wr),
      ),
    );
  });

  it('pixel shuffle index rule out[2h+p1, 2w+p2, c] = in[h, w, (p1·2 + p2)·C/2 + c]', () => {
    const [B, H, W, C] = [1, 2, 3, 8];
    const x = inp([B, H * W, C]).data;
    const xt = tensor(x, [B, H * W, C]) as tf.Tensor3D;
    const yt = pixelShuffle(xt, [H, W], 2);
    const y = values(yt);
    const c2 = C / 4;
    for (let h = 0; h < H; h++)
      for (let w = 0; w < W; w++)
        for (let p1 = 0; p1 < 2; p1++)
          for (let p2 = 0; p2 < 2; p2++)
            for (let c = 0; c < c2; c++)
              expect(y[((2 * h + p1) * 2 * W + 2 * w + p2) * c2 + c]).toBe(
                x[(h * W + w) * C + (p1 * 2 + p2) * c2 + c],
              );
    expect(Array.from(y)).toEqual(Array.from(refPixelShuffle(x, B, H, W, C, 2).map(Math.fround)));
    tf.dispose([xt, yt]);
  });

  it('patch expanding and final ×4 expanding', () => {
    const [B, H, W, C] = [2, 2, 2, 8];
    expectOp(
      'patch expanding',
      checkOp(
        [inp([B, H * W, C]), inp([C, 2 * C], 0.3), ...norm(C / 2)],
        (x, we, nw, nb) =>
          patchExpanding(
            x as tf.Tensor3D,
            {
              expand: { weight: we as tf.Tensor2D },
              norm: { weight: nw as tf.Tensor1D, bias: nb as tf.Tensor1D },
            },
            [H, W],
          ),
        (x, we, nw, nb) => refExpanding(x, B, H, W, C, we, 2 * C, 2, nw, nb),
      ),
    );
    const C4 = 4;
    expectOp(
      'final expanding x4',
      checkOp(
        [inp([B, H * W, C4]), inp([C4, 16 * C4], 0.3), ...norm(C4)],
        (x, we, nw, nb) =>
          finalExpanding(
            x as tf.Tensor3D,
            {
              expand: { weight: we as tf.Tensor2D },
              norm: { weight: nw as tf.Tensor1D, bias: nb as tf.Tensor1D },
            },
            [H, W],
          ),
        (x, we, nw, nb) => refExpanding(x, B, H, W, C4, we, 16 * C4, 4, nw, nb),
      ),
    );
  });

  it('linear skip (decoder first) and segmentation head (1×1 conv)', () => {
    const [n, C, K] = [6, 4, 3];
    expectOp(
      'linear skip',
      checkOp(
        [inp([1, n, C]), inp([1, n, C]), inp([2 * C, C], 0.4), inp([C], 0.2)],
        (d, e, w, b) =>
          linearSkip(d as tf.Tensor3D, e as tf.Tensor3D, {
            weight: w as tf.Tensor2D,
            bias: b as tf.Tensor1D,
          }),
        (d, e, w, b) => refLinearSkip(d, e, n, C, w, b),
      ),
    );
    expectOp(
      'segmentation head',
      checkOp(
        [inp([1, 2, 3, C]), inp([K, C, 1, 1], 0.4)],
        (x, w) => segmentationHead(x, { weight: convWeightToLinear(w as tf.Tensor4D) }),
        (x, w) => refSegHead(x, n, C, w, K),
      ),
    );
  });

  const memCases: {
    mode: 'conv' | 'avg' | 'max';
    layout: MemoryLayout;
    window: number;
    windowOut: number;
  }[] = [
    { mode: 'conv', layout: 'window', window: 4, windowOut: 2 },
    { mode: 'conv', layout: 'spatial', window: 4, windowOut: 4 },
    { mode: 'avg', layout: 'window', window: 2, windowOut: 2 },
    { mode: 'max', layout: 'window', window: 4, windowOut: 4 },
    { mode: 'max', layout: 'spatial', window: 4, windowOut: 4 },
  ];
  for (const mc of memCases) {
    it(`memory merging ${mc.mode}, ${mc.layout} layout (window ${mc.window} → ${mc.windowOut})`, () => {
      const [B, H, W, C] = [2, 8, 8, 4]; // C > 2: LN over 2 channels gives ±1, ties for max
      const wShape = mc.mode === 'conv' ? [2 * C, C, 2, 2] : [2 * C, C, 1, 1];
      expectOp(
        `memory merging ${mc.mode}`,
        checkOp(
          [inp([B, H * W, C]), ...norm(C), inp(wShape, 0.4)],
          (m, nw, nb, wc) =>
            memoryMerging(
              m as tf.Tensor3D,
              {
                norm: { weight: nw as tf.Tensor1D, bias: nb as tf.Tensor1D },
                reduction: { weight: convWeightToLinear(wc as tf.Tensor4D) },
              },
              {
                grid: [H, W],
                mode: mc.mode,
                layout: mc.layout,
                window: mc.window,
                windowOut: mc.windowOut,
              },
            ),
          (m, nw, nb, wc) =>
            refMemoryMerging(
              m,
              B,
              H,
              W,
              C,
              mc.mode,
              mc.layout,
              mc.window,
              mc.windowOut,
              nw,
              nb,
              wc,
            ),
        ),
      );
    });
  }

  for (const layout of ['window', 'spatial'] as MemoryLayout[]) {
    it(`memory expanding, ${layout} layout`, () => {
      const [B, H, W, C] = [2, 4, 4, 8]; // LN over C/2 = 4 channels (2 would be ill-conditioned)
      expectOp(
        'memory expanding',
        checkOp(
          [inp([B, H * W, C]), inp([C, 2 * C], 0.4), ...norm(C / 2)],
          (m, we, nw, nb) =>
            memoryExpanding(
              m as tf.Tensor3D,
              {
                expand: { weight: we as tf.Tensor2D },
                norm: { weight: nw as tf.Tensor1D, bias: nb as tf.Tensor1D },
              },
              { grid: [H, W], layout, window: 2, windowOut: 4 },
            ),
          (m, we, nw, nb) => refMemoryExpanding(m, B, H, W, C, layout, 2, 4, we, nw, nb),
        ),
      );
    });
  }
});
