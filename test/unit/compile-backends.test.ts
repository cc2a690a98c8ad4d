/**
 * The compiled model trains the same on every backend: three SGD steps
 * (softmax cross-entropy, lr 0.1, drop-path on) from the same weights on cpu,
 * wasm and webgpu (Dawn on SwiftShader in Node; skipped with a message when
 * there is no adapter) leave every weight equal ≤ 1e-4 relative to its max
 * |value| (and the weight updates themselves ≤ 1e-3 relative to their max).
 * And training leaks nothing: tf.memory().numTensors and numBytes after step 5 equal
 * that after step 100 (wasm).
 */
import * as tf from '#tfjs';
import { afterAll, describe, expect, it } from 'vitest';
import { initBackend } from '../../src/backend/index.ts';
import type { CompiledModel } from '../../src/compile/model.ts';
import { printMeasured, record } from '../reference/harness.ts';
import { relErr, Rng } from '../reference/math.ts';
import { compileDoc, randomizeWeights, smallMam } from './compile-fixtures.ts';

/** 16×16×1 → 8² × 8 (window 4, shifted) → 4² × 16; STS chain with memory merging and expanding. */
const TINY = {
  imageSize: 16,
  inChannels: 1,
  classes: 3,
  embedDim: 8,
  depths: [2, 2],
  heads: [2, 4],
  window: 4,
  patchSize: 2,
};
const B = 2;
const LR = 0.1;
const xData = Float32Array.from(new Rng(3).array(B * 16 * 16));
const labels = Int32Array.from({ length: B * 16 * 16 }, (_, i) => (i * 7 + (i >> 4)) % 3);

afterAll(() => printMeasured('compile-backends'));

function tinyModel(): CompiledModel {
  const { model } = compileDoc(smallMam('sts', 'window', 'conv', TINY), 7);
  randomizeWeights(model, 17);
  return model;
}

/** One SGD step on mean softmax cross-entropy, inside tidy; returns the loss (the one tensor kept). */
function sgdStep(model: CompiledModel, x: tf.Tensor4D, onehot: tf.Tensor, step: number): tf.Scalar {
  return tf.tidy(() => {
    const vars = model.variables;
    const { value, grads } = tf.variableGrads(() => {
      const logits = model.forward(x, { training: true, seed: step }).logits;
      return tf.neg(tf.mean(tf.sum(tf.mul(onehot, tf.logSoftmax(logits)), -1))) as tf.Scalar;
    }, vars);
    for (const v of vars) v.assign(tf.sub(v, tf.mul(grads[v.name], LR)));
    return value;
  });
}

function inputs(): { x: tf.Tensor4D; onehot: tf.Tensor } {
  return {
    x: tf.tensor(xData, [B, 16, 16, 1]) as tf.Tensor4D,
    onehot: tf.oneHot(tf.tensor(labels, [B, 16, 16], 'int32'), 3),
  };
}

/** Async reads: webgpu in Node has no synchronous read-back. */
async function snapshot(model: CompiledModel): Promise<Map<string, Float32Array>> {
  const out = new Map<string, Float32Array>();
  for (const [k, w] of model.weights) out.set(k, Float32Array.from(await w.variable.data()));
  return out;
}

describe('three SGD steps agree across backends', () => {
  const after = new Map<string, Map<string, Float32Array>>();
  let initial: Map<string, Float32Array> | undefined;
  const losses = new Map<string, number[]>();

  for (const name of ['cpu', 'wasm', 'webgpu'] as const) {
    it(`trains on ${name}`, async (ctx) => {
      const info = await initBackend(name);
      if (info.name !== name) {
        console.warn(`compile-backends: ${name} skipped, it could not start here: ${info.message}`);
        ctx.skip();
      }
      const model = tinyModel();
      initial ??= await snapshot(model);
      const { x, onehot } = inputs();
      const ls: number[] = [];
      for (let s = 0; s < 3; s++) {
        const loss = sgdStep(model, x, onehot, s + 1);
        ls.push((await loss.data())[0]);
        loss.dispose();
      }
      losses.set(name, ls);
      after.set(name, await snapshot(model));
      tf.dispose([x, onehot]);
      model.dispose();
      expect(ls.every(Number.isFinite)).toBe(true);
    });
  }

  it('every weight equal to cpu ≤ 1e-4 (relative to its max |value|)', () => {
    const base = after.get('cpu')!;
    expect(base).toBeDefined();
    console.log(`compile-backends losses: ${JSON.stringify(Object.fromEntries(losses))}`);
    for (const [name, w] of after) {
      if (name === 'cpu') continue;
      for (const [k, ref] of base) {
        const err = record(`weights ${name} vs cpu`, relErr(w.get(k)!, ref));
        expect(err, `${name} ${k}`).toBeLessThanOrEqual(1e-4);
        const d0 = initial!.get(k)!;
        const dRef = ref.map((v, i) => v - d0[i]);
        const dOurs = w.get(k)!.map((v, i) => v - d0[i]);
        const dErr = record(`updates ${name} vs cpu`, relErr(dOurs, dRef));
        expect(dErr, `update of ${k} on ${name}`).toBeLessThanOrEqual(1e-3);
      }
    }
    // the steps did move the weights
    const moved = relErr(
      base.get('layers.0.blocks.0/attn.qkv.weight')!,
      initial!.get('layers.0.blocks.0/attn.qkv.weight')!,
    );
    expect(moved).toBeGreaterThan(1e-4);
  });
});

describe('training leaks no tensors', () => {
  it('numTensors and numBytes after step 5 = after step 100 (wasm)', async () => {
    const info = await initBackend('wasm');
    expect(info.name).toBe('wasm');
    const model = tinyModel();
    const { x, onehot } = inputs();
    let at5 = { numTensors: -1, numBytes: -1 };
    for (let s = 1; s <= 100; s++) {
      sgdStep(model, x, onehot, s).dispose();
      if (s === 5) at5 = { ...tf.memory() };
    }
    const { numTensors, numBytes } = tf.memory();
    console.log(
      `compile-backends: after step 5 ${at5.numTensors} tensors, ${at5.numBytes} bytes; after step 100 ${numTensors}, ${numBytes}`,
    );
    expect({ numTensors, numBytes }).toEqual({
      numTensors: at5.numTensors,
      numBytes: at5.numBytes,
    });
    tf.dispose([x, onehot]);
    model.dispose();
  });
});
