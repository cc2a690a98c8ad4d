/**
 * presets/demo-mam.json written by hand directly on src/ops calls (no graph,
 * no plan, no per-node dispatch): the peer the compiled model is timed
 * against. 128×128×1, patch 4, embed 32, stages 32²/16²/8² with depths 2-2-2,
 * heads 2-4-8, window 4 (odd blocks shifted by 2), MAM with one memory chain
 * per encoder stage (ISTS, window layout), SAM decoder, 8 classes.
 * Weights are read from a `(node, name) → tensor` lookup in the ops layout
 * (the compiled model's variables, so both compute with the same numbers).
 */
import * as tf from '#tfjs';
import {
  finalExpanding,
  layerNorm,
  linearSkip,
  patchEmbed,
  patchExpanding,
  patchMerging,
  segmentationHead,
  swinBlock,
  type BlockWeights,
  type MemoryPort,
} from '../src/ops/index.ts';

export type WeightLookup = (node: string, name: string) => tf.Tensor;

const GRIDS = [32, 16, 8];
const HEADS = [2, 4, 8];
const WINDOW = 4;
/** drop-path rates of the encoder blocks (linspace(0, 0.1, 6)); decoder stage s reuses stage s's */
const RATES = [
  [0, 0.02],
  [0.04, 0.06],
  [0.08, 0.1],
];

export function handwrittenDemo(
  x: tf.Tensor4D,
  W: WeightLookup,
  { training = false, seed = 0 } = {},
): tf.Tensor4D {
  return tf.tidy(() => {
    const v1 = (n: string, k: string) => W(n, k) as tf.Tensor1D;
    const v2 = (n: string, k: string) => W(n, k) as tf.Tensor2D;
    const norm = (n: string, p: string) => ({
      weight: v1(n, `${p}weight`),
      bias: v1(n, `${p}bias`),
    });
    const block = (n: string): BlockWeights => ({
      norm1: norm(n, 'norm1.'),
      attn: {
        qkv: { weight: v2(n, 'attn.qkv.weight'), bias: v1(n, 'attn.qkv.bias') },
        proj: { weight: v2(n, 'attn.proj.weight'), bias: v1(n, 'attn.proj.bias') },
        relTable: v2(n, 'attn.relative_position_bias_table'),
      },
      norm2: norm(n, 'norm2.'),
      mlp: {
        fc1: { weight: v2(n, 'mlp.fc1.weight'), bias: v1(n, 'mlp.fc1.bias') },
        fc2: { weight: v2(n, 'mlp.fc2.weight'), bias: v1(n, 'mlp.fc2.bias') },
      },
    });
    let dpSeed = seed;
    const stage = (prefix: string, s: number, t: tf.Tensor3D, memory: boolean): tf.Tensor3D => {
      let mem: MemoryPort | undefined = memory ? { in: null, layout: 'window' } : undefined;
      for (let j = 0; j < 2; j++) {
        const r = swinBlock(
          t,
          block(`${prefix}.blocks.${j}`),
          {
            heads: HEADS[s],
            window: WINDOW,
            shift: j % 2 ? WINDOW / 2 : 0,
            grid: [GRIDS[s], GRIDS[s]],
            dropPath: { rate: RATES[s][j], training, seed: (dpSeed += 2) },
          },
          mem,
        );
        t = r.y;
        if (memory) mem = { in: r.memOut, layout: 'window' };
      }
      return t;
    };

    let t = patchEmbed(
      x,
      {
        proj: { weight: v2('patch_embed', 'proj.weight'), bias: v1('patch_embed', 'proj.bias') },
        norm: norm('patch_embed', 'norm.'),
      },
      4,
    );
    const skips: tf.Tensor3D[] = [];
    for (let s = 0; s < 3; s++) {
      skips.push(t);
      t = stage(`layers.${s}`, s, t, true);
      if (s < 2) {
        const d = `layers.${s}.downsample`;
        t = patchMerging(
          t,
          { norm: norm(d, 'norm.'), reduction: { weight: v2(d, 'reduction.weight') } },
          [GRIDS[s], GRIDS[s]],
        );
      }
    }
    t = layerNorm(t, norm('norm', ''));
    t = patchExpanding(
      t,
      {
        expand: { weight: v2('layers_up.0', 'expand.weight') },
        norm: norm('layers_up.0', 'norm.'),
      },
      [8, 8],
    );
    for (let k = 1; k < 3; k++) {
      const s = 2 - k;
      const c = `concat_back_dim.${k}`;
      t = linearSkip(t, skips[s], { weight: v2(c, 'weight'), bias: v1(c, 'bias') });
      t = stage(`layers_up.${k}`, s, t, false);
      if (k < 2) {
        const u = `layers_up.${k}.upsample`;
        t = patchExpanding(
          t,
          { expand: { weight: v2(u, 'expand.weight') }, norm: norm(u, 'norm.') },
          [GRIDS[s], GRIDS[s]],
        );
      }
    }
    t = layerNorm(t, norm('norm_up', ''));
    t = finalExpanding(
      t,
      { expand: { weight: v2('up', 'expand.weight') }, norm: norm('up', 'norm.') },
      [32, 32],
    );
    const logits = segmentationHead(t, { weight: v2('output', 'weight') });
    return tf.reshape(logits, [x.shape[0], 128, 128, 8]) as tf.Tensor4D;
  });
}
