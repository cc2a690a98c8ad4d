/**
 * Drop-path of the 3D window blocks (src/ops/vol3d-block.ts): in training each
 * sample's residual branch is kept with probability 1 − rate and scaled by
 * 1/keep, or dropped, per sample (the whole volume alike); the attention and
 * MLP branches draw apart; in inference it is off. Checked against the
 * block's own branches isolated by zeroing the other branch's output layer
 * (so out = x + mask·branch/keep), with a fixed seed and binomial bounds.
 */
import * as tf from '#tfjs';
import { describe, expect, it } from 'vitest';
import { swinIndex3d, swinWindows3d } from '../../src/graph/geometry3d.ts';
import { swin3dBlock, type Block3dWeights } from '../../src/ops/vol3d-block.ts';
import { readFileSync } from 'node:fs';
import * as path from 'node:path';
import { smallNnformer } from '../helpers/torch-3d-graphs.ts';
import { compileDoc } from './compile-fixtures.ts';
import { repoRoot } from './data-oracle.ts';

type Vol = tf.Tensor5D;
const C = 4;
const heads = 2;
const grid: [number, number, number] = [2, 2, 4];
const windows = swinWindows3d(grid, 2, 1); // shifted on the long axis
const index = swinIndex3d(2);
const B = 600;
const V = grid[0] * grid[1] * grid[2] * C;

function weights(zero: 'proj' | 'fc2'): Block3dWeights {
  const rnd = (shape: number[], seed: number) => tf.randomNormal(shape, 0, 0.5, 'float32', seed);
  const lin = (i: number, o: number, seed: number, off = false) => ({
    weight: (off ? tf.zeros([i, o]) : rnd([i, o], seed)) as tf.Tensor2D,
    bias: (off ? tf.zeros([o]) : rnd([o], seed + 1)) as tf.Tensor1D,
  });
  const norm = () => ({ weight: tf.ones([C]) as tf.Tensor1D, bias: tf.zeros([C]) as tf.Tensor1D });
  return {
    norm1: norm(),
    qkv: lin(C, 3 * C, 1),
    proj: lin(C, C, 3, zero === 'proj'),
    table: rnd([index.rows, heads], 5) as tf.Tensor2D,
    norm2: norm(),
    fc1: lin(C, 2 * C, 7),
    fc2: lin(2 * C, C, 9, zero === 'fc2'),
  };
}

/** Per sample: 1 if out = x + branch/keep, 0 if out = x (else the test fails). */
function masks(x: Float32Array, evalOut: Float32Array, trainOut: Float32Array, keep: number) {
  const m: number[] = [];
  for (let b = 0; b < B; b++) {
    let kept = 0;
    let dropped = 0;
    let scale = 0;
    for (let i = b * V; i < (b + 1) * V; i++) {
      const branch = evalOut[i] - x[i];
      kept = Math.max(kept, Math.abs(trainOut[i] - (x[i] + branch / keep)));
      dropped = Math.max(dropped, Math.abs(trainOut[i] - x[i]));
      scale = Math.max(scale, Math.abs(branch));
    }
    expect(scale).toBeGreaterThan(1e-2); // the branch is not zero, so the two cases differ
    if (kept < 1e-4) m.push(1);
    else if (dropped < 1e-4) m.push(0);
    else throw new Error(`sample ${b}: neither kept (${kept}) nor dropped (${dropped})`);
  }
  return m;
}

describe('drop-path of a 3D Swin block', () => {
  it('keeps each sample with 1 − rate, scaled by 1/keep, per branch; off in inference', async () => {
    const rate = 0.3;
    const keep = 1 - rate;
    const before = tf.memory().numTensors;
    const x = tf.randomNormal([B, ...grid, C], 0, 1, 'float32', 13) as Vol;
    const xs = (await x.data()) as Float32Array;
    const drawn: number[][] = [];
    for (const zero of ['fc2', 'proj'] as const) {
      const w = weights(zero);
      const run = (training: boolean) =>
        swin3dBlock(x, w, {
          heads,
          windows,
          index,
          dropPath: { rate, training, seed: 77 },
        }).out;
      const plain = swin3dBlock(x, w, { heads, windows, index }).out;
      const ev = run(false);
      const tr = run(true);
      const [p, e, t] = (await Promise.all([plain.data(), ev.data(), tr.data()])) as Float32Array[];
      // inference: exactly the block without drop-path
      expect(Array.from(e)).toEqual(Array.from(p));
      const m = masks(xs, e, t, keep);
      const share = m.reduce((a, v) => a + v, 0) / B;
      // Binomial(B, keep): within 4 σ
      expect(Math.abs(share - keep)).toBeLessThan(4 * Math.sqrt((keep * rate) / B));
      drawn.push(m);
      tf.dispose([
        plain,
        ev,
        tr,
        ...Object.values(w).flatMap((v) => ('weight' in v ? [v.weight, v.bias] : [v])),
      ]);
    }
    // attention (fc2 zeroed) and MLP (proj zeroed) branches draw apart: not the same masks
    expect(drawn[0]).not.toEqual(drawn[1]);
    x.dispose();
    expect(tf.memory().numTensors).toBe(before);
  });
});

describe("nnFormer's drop-path rates", () => {
  it("the FLARE presets carry the reference's rates (§f), written out", () => {
    const enc = [0, 1, 2, 3, 4, 5, 6, 7].map((i) => (0.2 * i) / 7); // linspace(0, 0.2, 8)
    const want: Record<string, number> = {};
    for (let i = 0; i < 8; i++)
      want[`model_down.layers.${Math.floor(i / 2)}.blocks.${i % 2}`] = enc[i];
    Object.assign(want, {
      'decoder.layers.0.blocks.0': 0.16,
      'decoder.layers.0.blocks.1': 0.2,
      'decoder.layers.1.blocks.0': 0.08,
      'decoder.layers.1.blocks.1': 0.12,
      'decoder.layers.2.blocks.0': 0,
      'decoder.layers.2.blocks.1': 0.04,
    });
    for (const name of ['nnformer', 'nnformer-mam']) {
      const doc = JSON.parse(
        readFileSync(path.join(repoRoot, 'presets', `${name}.json`), 'utf8'),
      ) as { nodes: { id: string; params: Record<string, unknown> }[] };
      const got: Record<string, number> = {};
      for (const n of doc.nodes)
        if (n.id in want) got[n.id] = (n.params.dropPath as number | undefined) ?? 0;
      expect(Object.keys(got).sort()).toEqual(Object.keys(want).sort());
      for (const [id, r] of Object.entries(want)) expect(got[id], id).toBeCloseTo(r, 12);
    }
  });

  it('a compiled nnFormer-MAM trains with them (every block kind) and leaves inference alone', async () => {
    const x = tf.randomNormal([2, 32, 32, 32, 1], 0, 1, 'float32', 3) as unknown as tf.Tensor4D;
    const plain = compileDoc(smallNnformer(32, 8, 1, true, 0), 4).model;
    const dropped = compileDoc(smallNnformer(32, 8, 1, true, 0.5), 4).model;
    const out = (m: typeof plain, training: boolean) =>
      tf.tidy(() => m.forward(x, { training, seed: 9 }).logits);
    const [p, e, t, pt] = [
      out(plain, false),
      out(dropped, false),
      out(dropped, true),
      out(plain, true),
    ];
    const [pv, ev, tv, ptv] = (await Promise.all(
      [p, e, t, pt].map((v) => v.data()),
    )) as Float32Array[];
    expect(Array.from(ev)).toEqual(Array.from(pv)); // inference: no drop-path
    expect(Array.from(ptv)).toEqual(Array.from(pv)); // rate 0: nothing drawn
    let diff = 0;
    tv.forEach((v, i) => (diff = Math.max(diff, Math.abs(v - ev[i]))));
    expect(diff).toBeGreaterThan(1e-3); // training at 0.5: some branches dropped
    tf.dispose([x, p, e, t, pt]);
    plain.dispose();
    dropped.dispose();
  });
});
