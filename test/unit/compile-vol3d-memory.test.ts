/**
 * What a 3D training step keeps (buffer bytes, src/backend/meter.ts),
 * against the shapes worked out by hand: a 64³ SwinUNETR-MAM demo step at
 * batch 2 ran out of wasm's 4 GiB heap while its CNN blocks kept every conv,
 * InstanceNorm and LeakyReLU intermediate for the backward pass. The 3D CNN
 * kinds are recomputed (src/compile/recompute.ts): the tape keeps their inputs.
 * Without a tape the blocks free each stage once the next is made: a 96³
 * forward's decoder1 held every stage of its 96-channel convs at once.
 */
import * as tf from '#tfjs';
import { beforeAll, describe, expect, it } from 'vitest';
import { initBackend } from '../../src/backend/index.ts';
import { meterBuffers } from '../../src/backend/meter.ts';
import type { GraphDoc } from '../../src/graph/types.ts';
import { compileDoc } from './compile-fixtures.ts';

beforeAll(async () => {
  await initBackend('wasm');
});

const B = 2;
const S = 8;
const F32 = 4;

/** input 1 × 8³ → UNETR basic block (→ 4) → up block (→ 4, skip from the first) → conv3d 1³ (→ 3) → output. */
function doc(): GraphDoc {
  const node = (id: string, type: string, params: Record<string, unknown>) => ({
    id,
    type,
    position: [0, 0],
    params,
  });
  const link = (from: string, to: string, port = 'in') => ({
    from: { node: from, port: 'out' },
    to: { node: to, port },
  });
  return {
    format: 'mam-studio/graph',
    version: 1,
    metadata: { title: 'cnn 3d' },
    nodes: [
      node('input', 'image-input', { channels: 1, depth: S, height: S, width: S }),
      node('enc', 'unetr-basic-block', { outChannels: 4 }),
      node('down', 'conv3d', {
        bias: true,
        kernel: '2,2,2',
        outChannels: 8,
        padding: '0,0,0',
        stride: '2,2,2',
      }),
      node('dec', 'unetr-up-block', { outChannels: 4 }),
      node('head', 'conv3d', {
        bias: true,
        kernel: '1,1,1',
        outChannels: 3,
        padding: '0,0,0',
        stride: '1,1,1',
      }),
      node('segmentation', 'output', { classNames: ['a', 'b', 'c'], classes: 3 }),
    ],
    links: [
      link('input', 'enc'),
      link('enc', 'down'),
      link('down', 'dec'),
      link('enc', 'dec', 'skip'),
      link('dec', 'head'),
      link('head', 'segmentation', 'logits'),
    ],
  } as unknown as GraphDoc;
}

describe('3D CNN nodes in training keep their inputs only (wasm)', () => {
  it('the tape holds the block outputs that feed other nodes, nothing inside the blocks', () => {
    const { model } = compileDoc(doc());
    const x = tf.randomNormal([B, S, S, S, 1], 0, 1, 'float32', 1) as unknown as tf.Tensor4D;
    let kept = -1;
    const { value, grads } = tf.variableGrads(() => {
      const meter = meterBuffers();
      const logits = model.forward(x, { training: true }).logits;
      kept = meter.live - logits.size * F32;
      meter.stop();
      return tf.sum(tf.square(logits));
    }, model.variables);
    // The outputs other nodes read: enc's (B·8³·4, read by down and dec),
    // down's (B·4³·8) and dec's (B·8³·4, read by head); the input is the
    // caller's, the weights are variables.
    expect(kept).toBe((B * S ** 3 * 4 + B * (S / 2) ** 3 * 8 + B * S ** 3 * 4) * F32);
    expect(Object.keys(grads).length).toBe(model.variables.length);
    for (const g of Object.values(grads)) expect(g.isDisposed).toBe(false);
    tf.dispose([value, x, ...Object.values(grads)]);
    model.dispose();
  });
});

describe('3D CNN blocks without a tape free each stage once the next is made (wasm)', () => {
  it('the basic and up blocks hold only their output when they return', () => {
    const { model } = compileDoc(doc());
    const step = (id: string) => model.plan.steps.find((s) => s.id === id)!;
    const weights = model as unknown as { variableOf(node: string, name: string): tf.Tensor };
    const run = (id: string, inputs: Record<string, tf.Tensor>) => {
      const s = step(id);
      const meter = meterBuffers();
      const out = s.kernel!({
        params: s.params,
        inputs,
        inShapes: s.inShapes,
        outShapes: s.outShapes,
        weight: (name) => weights.variableOf(id, name),
        training: false,
        seed: 0,
      }).out;
      const live = meter.live;
      meter.stop();
      return { out, live };
    };
    const x = tf.randomNormal([B, S, S, S, 1], 0, 1, 'float32', 3);
    const skip = tf.randomNormal([B, S, S, S, 4], 0, 1, 'float32', 5);
    const low = tf.randomNormal([B, S / 2, S / 2, S / 2, 8], 0, 1, 'float32', 7);
    // enc: 1 → 4 channels at 8³ (conv3 on the residual); dec: 8 at 4³ up to 4 at 8³, concat the skip (8), → 4
    const enc = run('enc', { in: x });
    const dec = run('dec', { in: low, skip });
    // what is alive is the output, B·8³·4 floats: conv1, conv2, conv3 and their
    // norms, the LeakyReLUs, the sum (and dec's up-sampling and concat) are gone
    expect(enc.out.shape).toEqual([B, S, S, S, 4]);
    expect(enc.live).toBe(B * S ** 3 * 4 * F32);
    expect(dec.out.shape).toEqual([B, S, S, S, 4]);
    expect(dec.live).toBe(B * S ** 3 * 4 * F32);
    tf.dispose([x, skip, low, enc.out, dec.out]);
    model.dispose();
  });
});
