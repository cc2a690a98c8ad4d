/**
 * The op set trains on wasm too: gradients of a MAM Swin block (shifted,
 * with memory, bias table via one-hot matMul) followed by max-pool memory
 * merging agree between the wasm and cpu backends.
 */
import * as tf from '#tfjs';
import '@tensorflow/tfjs-backend-wasm';
import { afterAll, describe, expect, it } from 'vitest';
import { memoryMerging, swinBlock } from '../../src/ops/index.ts';
import { Rng } from '../reference/math.ts';
import { blockFromList, randomBlock, tensor } from '../reference/harness.ts';

async function gradients(backend: string): Promise<Float32Array[]> {
  await tf.setBackend(backend);
  await tf.ready();
  const rng = new Rng(3);
  const p = randomBlock(rng, 8, 2, 4);
  const x = tensor(rng.array(2 * 64 * 8), [2, 64, 8]);
  const m = tensor(rng.array(2 * 64 * 8), [2, 64, 8]);
  const grads = tf.grads((xx: tf.Tensor, mm: tf.Tensor, ...l: tf.Tensor[]) => {
    const w = blockFromList(l, true);
    const o = swinBlock(
      xx as tf.Tensor3D,
      w,
      { heads: 2, window: 4, shift: 2, grid: [8, 8] },
      { in: mm as tf.Tensor3D },
    );
    const merged = memoryMerging(
      o.memOut!,
      { norm: w.norm2, reduction: w.mlp.fc1 },
      { grid: [8, 8], mode: 'max', layout: 'window', window: 4 },
    );
    return tf.add(tf.sum(tf.square(o.y)), tf.sum(merged));
  })([x, m, ...p.list]);
  const out = grads.map((g) => g.dataSync() as Float32Array);
  tf.dispose([x, m, ...p.list, ...grads]);
  return out;
}

describe('wasm backend', () => {
  afterAll(async () => {
    await tf.setBackend('cpu');
  });

  it('block + memory merging gradients equal the cpu backend', async () => {
    const cpu = await gradients('cpu');
    const wasm = await gradients('wasm');
    let worst = 0;
    cpu.forEach((a, i) => {
      const s = Math.max(...Array.from(a, Math.abs));
      a.forEach((v, j) => (worst = Math.max(worst, Math.abs(v - wasm[i][j]) / s)));
    });
    console.log(`wasm vs cpu gradients: ${worst.toExponential(2)}`);
    expect(worst).toBeLessThan(1e-4);
  });
});
