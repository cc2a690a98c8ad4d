/**
 * Inference frees each node's output after its last consumer
 * (src/compile/release.ts): on a chain of n shape-keeping nodes only two
 * outputs are alive at once, where the forward held all n, and a node's
 * intermediate tensors go when it returns; under a gradient tape (eval-mode
 * gradients too) everything stays for the backward pass.
 */
import * as tf from '#tfjs';
import { beforeAll, describe, expect, it } from 'vitest';
import { initBackend } from '../../src/backend/index.ts';
import { meterBuffers } from '../../src/backend/meter.ts';
import { CompiledModel } from '../../src/compile/model.ts';
import { planGraph } from '../../src/compile/plan.ts';
import { kernels } from '../../src/compile/kernels/index.ts';
import type { Kernel } from '../../src/compile/kernels/types.ts';
import type { GraphDoc } from '../../src/graph/types.ts';
import { catalogue } from '../../nodes/index.ts';
import { compileDoc, randomizeWeights, smallMam } from './compile-fixtures.ts';
import { swinIndex3d, swinWindows3d } from '../../src/graph/geometry3d.ts';
import { swin3dBlock, type Block3dWeights } from '../../src/ops/vol3d-block.ts';
import type { Vol } from '../../src/ops/vol3d.ts';

beforeAll(async () => {
  await initBackend('wasm');
});

const N = 5; // nodes in the chain
const B = 2;
const SIDE = 4;
const C = 3;
/** One node's output: B × 4³ × C float32. */
const OUT_BYTES = B * SIDE ** 3 * C * 4;

/** input → n0 → … → n4 → output, conv3d 1³ C → C (shape kept), as a graph file. */
function chainDoc(): GraphDoc {
  const conv = (i: number) => ({
    id: `n${i}`,
    type: 'conv3d',
    position: [100 * (i + 1), 0] as [number, number],
    params: { bias: false, kernel: '1,1,1', outChannels: C, padding: '0,0,0', stride: '1,1,1' },
  });
  const ids = ['input', ...Array.from({ length: N }, (_, i) => `n${i}`)];
  return {
    format: 'mam-studio/graph',
    version: 1,
    metadata: { title: 'chain' },
    nodes: [
      {
        id: 'input',
        type: 'image-input',
        position: [0, 0],
        params: { channels: C, depth: SIDE, height: SIDE, width: SIDE },
      },
      ...Array.from({ length: N }, (_, i) => conv(i)),
      {
        id: 'segmentation',
        type: 'output',
        position: [100 * (N + 1), 0],
        params: { classNames: ['a', 'b', 'c'], classes: C },
      },
    ],
    links: [...ids, 'segmentation'].slice(1).map((to, i) => ({
      from: { node: ids[i], port: 'out' },
      to: { node: to, port: to === 'segmentation' ? 'logits' : 'in' },
    })),
  } as unknown as GraphDoc;
}

/**
 * The chain with each node's math replaced by `-x` applied `negations` times
 * (that many new buffers of its output's size, the last one its output),
 * recording the live tensors and buffer bytes as each node starts.
 */
function chainModel(
  seen: { tensors: number; bytes: number }[],
  meter: () => number,
  negations = 1,
) {
  const plus: Kernel = (ctx) => {
    seen.push({ tensors: tf.memory().numTensors, bytes: meter() });
    let y = ctx.inputs.in!;
    for (let i = 0; i < negations; i++) y = tf.neg(y);
    return { out: y };
  };
  const table = new Map(kernels);
  table.set('conv3d', plus);
  const p = planGraph(chainDoc(), catalogue, table);
  if (!p.ok) throw new Error(p.errors.map((e) => e.message).join('\n'));
  return CompiledModel.create(p.plan);
}

/**
 * Runs `pass` on the chain of `negations`-fold nodes over ones, metering
 * buffers from just before it: what each node saw as it started (relative
 * to the start, in tensors and in outputs' sizes), the peak (bytes), and the
 * tensors alive after it beyond those before.
 */
function meteredChain<T extends tf.TensorContainer>(
  negations: number,
  pass: (model: CompiledModel, x: tf.Tensor4D) => T,
) {
  const seen: { tensors: number; bytes: number }[] = [];
  const m = meterBuffers();
  const model = chainModel(seen, () => m.live, negations);
  const x = tf.ones([B, SIDE, SIDE, SIDE, C]) as unknown as tf.Tensor4D;
  const base = tf.memory().numTensors;
  m.resetPeak();
  const start = m.live;
  const result = pass(model, x);
  const peak = m.peak - start;
  m.stop();
  return {
    result,
    tensors: seen.map((s) => s.tensors - base),
    outputs: seen.map((s) => (s.bytes - start) / OUT_BYTES),
    peak,
    after: tf.memory().numTensors - base,
    done: () => {
      tf.dispose(x);
      model.dispose();
    },
  };
}

describe('forward without a gradient tape frees outputs after their last use', () => {
  it('a chain of 5 nodes holds 2 outputs at most, not 5; the result is unchanged', () => {
    const r = meteredChain(1, (model, x) =>
      model.forward(x, { keep: [{ node: 'n1', port: 'out' }] }),
    );
    const { logits, ports } = r.result;
    // When node i starts, the live outputs are node i-1's (the input is the
    // caller's) and, from n3 on, the kept n1 beside it.
    expect(r.tensors).toEqual([0, 1, 1, 2, 2]);
    expect(r.outputs).toEqual([0, 1, 1, 2, 2]);
    // The peak: n3's (n4's) output made beside n2's (n3's) and the kept n1.
    expect(r.peak).toBe(3 * OUT_BYTES);
    // After it: the logits and the kept port only.
    expect(r.after).toBe(2);
    expect(Array.from(logits.dataSync())).toEqual(new Array(B * SIDE ** 3 * C).fill((-1) ** N));
    expect(Array.from(ports['n1:out'].dataSync())).toEqual(new Array(B * SIDE ** 3 * C).fill(1));
    tf.dispose([logits, ports['n1:out']]);
    r.done();
  });

  it("a node's intermediate tensors are freed when it returns, not when the pass ends", () => {
    // -(-(-x)): two intermediates a node
    const r = meteredChain(3, (model, x) => model.predict(x));
    // When node i starts only node i-1's output is alive (they held 2 more a node before).
    expect(r.tensors).toEqual([0, 1, 1, 1, 1]);
    expect(r.outputs).toEqual([0, 1, 1, 1, 1]);
    // The peak: a node's three buffers beside its input.
    expect(r.peak).toBe(4 * OUT_BYTES);
    expect(r.after).toBe(1);
    expect(Array.from(r.result.dataSync())).toEqual(new Array(B * SIDE ** 3 * C).fill(-1));
    r.result.dispose();
    r.done();
  });

  it('under a gradient tape every output stays for the backward pass', () => {
    const r = meteredChain(1, (model, x) =>
      tf.grad((v: tf.Tensor) => tf.sum(model.forward(v as tf.Tensor4D).logits))(x),
    );
    // the forward's outputs all stay
    expect(r.outputs).toEqual([0, 1, 2, 3, 4]);
    expect(Array.from(r.result.dataSync())).toEqual(new Array(B * SIDE ** 3 * C).fill((-1) ** N));
    r.result.dispose();
    r.done();
  });

  it('a 2D Swin-Unet-MAM gives the same logits, bit for bit, as the forward that keeps all', () => {
    const { model } = compileDoc(smallMam('ists', 'window'));
    randomizeWeights(model, 3);
    const x = tf.randomNormal([2, 32, 32, 2], 0, 1, 'float32', 5) as tf.Tensor4D;
    const before = tf.memory().numTensors + model.constantCount;
    const freed = model.predict(x);
    // nothing stays but the logits and the model's constants (masks), made on first use
    expect(tf.memory().numTensors - model.constantCount - before).toBe(1);
    let keptAll: tf.Tensor | undefined;
    // Under a tape nothing is freed: the path as it was before release.
    const g = tf.grad((v: tf.Tensor) => {
      const y = model.forward(v as tf.Tensor4D).logits;
      keptAll = tf.keep(tf.clone(y));
      return tf.sum(y);
    })(x);
    expect(Array.from(freed.dataSync())).toEqual(Array.from(keptAll!.dataSync()));
    tf.dispose([g, freed, keptAll!, x]);
    model.dispose();
  });
});

describe('a 3D Swin block without a tape frees each attention logit tensor once the next is made', () => {
  it('peak of two logit tensors and the mask making (it held product, +bias, +mask, softmax); same output as under a tape', () => {
    const [Bb, C3, heads] = [2, 4, 2];
    const grid: [number, number, number] = [8, 8, 8];
    const windows = swinWindows3d(grid, 4, 2); // shifted: the mask step runs too
    const index = swinIndex3d(4);
    const rnd = (shape: number[], seed: number) => tf.randomNormal(shape, 0, 0.5, 'float32', seed);
    const lin = (i: number, o: number, seed: number) => ({
      weight: rnd([i, o], seed) as tf.Tensor2D,
      bias: rnd([o], seed + 1) as tf.Tensor1D,
    });
    const norm = () => ({
      weight: tf.ones([C3]) as tf.Tensor1D,
      bias: tf.zeros([C3]) as tf.Tensor1D,
    });
    const w: Block3dWeights = {
      norm1: norm(),
      qkv: lin(C3, 3 * C3, 1),
      proj: lin(C3, C3, 3),
      table: rnd([index.rows, heads], 5) as tf.Tensor2D,
      norm2: norm(),
      fc1: lin(C3, 2 * C3, 7),
      fc2: lin(2 * C3, C3, 9),
    };
    const x = rnd([Bb, ...grid, C3], 11) as Vol;
    const N = 64; // 4³ tokens a window
    const logitBytes = Bb * windows.count * heads * N * N * 4;
    swin3dBlock(x, w, { heads, windows, index }).out.dispose(); // warm-up
    const m = meterBuffers();
    const freed = swin3dBlock(x, w, { heads, windows, index }).out;
    m.stop();
    // two logit tensors at a time, plus the shift mask [nW, N, N] and the
    // temporaries of its making (at most 4 of its size); it held 5.7 logit tensors
    const maskBytes = windows.count * N * N * 4;
    expect(m.peak).toBeLessThanOrEqual(2 * logitBytes + 4 * maskBytes);
    expect(m.peak).toBeGreaterThanOrEqual(2 * logitBytes);
    let taped: tf.Tensor | undefined;
    const g = tf.grad((v: tf.Tensor) => {
      const y = swin3dBlock(v as Vol, w, { heads, windows, index }).out;
      taped = tf.keep(tf.clone(y));
      return tf.sum(y);
    })(x);
    expect(Array.from(freed.dataSync())).toEqual(Array.from(taped!.dataSync()));
    tf.dispose([
      g,
      freed,
      taped!,
      x,
      ...Object.values(w).flatMap((v) => Object.values(v as object)),
    ]);
  });
});
