/** Every op leaves behind only the tensors it returns (tf.memory().numTensors is flat). */
import * as tf from '#tfjs';
import { beforeAll, describe, expect, it } from 'vitest';
import * as ops from '../../src/ops/index.ts';
import { Rng } from '../reference/math.ts';
import { blockFromList, randomBlock, tensor } from '../reference/harness.ts';

beforeAll(async () => {
  await tf.setBackend('cpu');
});

describe('no leaked tensors', () => {
  it('each op, forward and gradient', () => {
    const rng = new Rng(3);
    const B = 2;
    const C = 8;
    const grid: [number, number] = [8, 8];
    const t = (shape: number[], std = 1, mean = 0) =>
      tensor(
        rng.array(
          shape.reduce((a, b) => a * b, 1),
          std,
          mean,
        ),
        shape,
      );
    const p = randomBlock(rng, C, 2, 4);
    const w = blockFromList(p.list, true);
    const x = t([B, 64, C]) as tf.Tensor3D;
    const m = t([B, 64, C]) as tf.Tensor3D;
    const img = t([B, 16, 16, 3]) as tf.Tensor4D;
    const n = (c: number) => ({
      weight: t([c], 0.1, 1) as tf.Tensor1D,
      bias: t([c], 0.1) as tf.Tensor1D,
    });
    const lin = (i: number, o: number) => ({
      weight: t([i, o], 0.3) as tf.Tensor2D,
      bias: t([o], 0.1) as tf.Tensor1D,
    });
    const norm8 = n(C);
    const norm4 = n(C / 2);
    const norm32 = n(4 * C);
    const l8to16 = lin(C, 2 * C);
    const l32to16 = lin(4 * C, 2 * C);
    const l8to128 = lin(C, 16 * C);
    const l16to8 = lin(2 * C, C);
    const l48to8 = lin(48, C);
    const convLin = ops.convWeightToLinear(t([2 * C, C, 2, 2]) as tf.Tensor4D);
    const pos = t([64, C]) as tf.Tensor2D;

    const calls: [string, () => tf.Tensor | tf.Tensor[] | ops.AttentionResult][] = [
      ['roll', () => ops.roll(x, [-2, 3], [1, 2])],
      ['windowPartition', () => tf.tidy(() => ops.windowPartition(tf.reshape(x, [B, 8, 8, C]), 4))],
      [
        'windowAttention',
        () =>
          ops.windowAttention(
            x,
            w.attn,
            { heads: 2, window: 4, shift: 2, grid },
            { in: m, layout: 'spatial' },
          ),
      ],
      ['globalAttention', () => ops.globalAttention(x, w.attn, { heads: 2 }, { in: m })],
      [
        'swinBlock',
        () =>
          ops.swinBlock(
            x,
            w,
            {
              heads: 2,
              window: 4,
              shift: 2,
              grid,
              dropPath: { rate: 0.2, training: true, seed: 1 },
            },
            { in: m },
          ),
      ],
      ['vitBlock', () => ops.vitBlock(x, w, { heads: 2 })],
      ['patchEmbed', () => ops.patchEmbed(img, { proj: l48to8, norm: norm8 }, 4)],
      ['patchMerging', () => ops.patchMerging(x, { norm: norm32, reduction: l32to16 }, grid)],
      ['patchExpanding', () => ops.patchExpanding(x, { expand: l8to16, norm: norm4 }, grid)],
      ['finalExpanding', () => ops.finalExpanding(x, { expand: l8to128, norm: norm8 }, grid)],
      [
        'memoryMerging',
        () =>
          ops.memoryMerging(
            m,
            { norm: norm8, reduction: { weight: convLin } },
            { grid, mode: 'conv', layout: 'window', window: 4 },
          ),
      ],
      [
        'memoryMerging max',
        () =>
          ops.memoryMerging(
            m,
            { norm: norm8, reduction: l8to16 },
            { grid, mode: 'max', layout: 'spatial', window: 4 },
          ),
      ],
      [
        'memoryExpanding',
        () =>
          ops.memoryExpanding(
            m,
            { expand: l8to16, norm: norm4 },
            { grid, layout: 'window', window: 4 },
          ),
      ],
      ['linearSkip', () => ops.linearSkip(x, m, l16to8)],
      ['segmentationHead', () => ops.segmentationHead(x, l8to16)],
      ['addPositionEmbedding', () => ops.addPositionEmbedding(x, pos)],
      ['dropPath', () => ops.dropPath(x, { rate: 0.5, training: true, seed: 2 })],
    ];
    const flatten = (r: tf.Tensor | tf.Tensor[] | ops.AttentionResult): tf.Tensor[] =>
      r instanceof tf.Tensor ? [r] : Array.isArray(r) ? r : [r.y, ...(r.memOut ? [r.memOut] : [])];
    for (const [name, f] of calls) {
      // a first call may create lazily cached tensors; none are expected, so check from the first call on
      const before = tf.memory().numTensors;
      const out = flatten(f());
      expect(tf.memory().numTensors - before, `${name} forward`).toBe(out.length);
      tf.dispose(out);
      expect(tf.memory().numTensors, `${name} forward`).toBe(before);
      // gradient of everything w.r.t. x and m, inside tidy
      const g = tf.tidy(() =>
        tf.grads((a: tf.Tensor, b: tf.Tensor) =>
          tf.addN([
            tf.sum(tf.mul(a, 0)),
            tf.sum(tf.mul(b, 0)),
            ...flatten(f()).map((o) => tf.sum(o)),
          ]),
        )([x, m]),
      );
      tf.dispose(g);
      expect(tf.memory().numTensors, `${name} gradient`).toBe(before);
    }
  });
});
