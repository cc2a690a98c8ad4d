/**
 * Transposes on wasm at the shapes and perms of a training step (demo-mam at
 * batch 2, swin-unet-mam-ists at 224² batch 1; found by wrapping the kernel
 * during a step): our SIMD kernel (src/backend/wasm-transpose.ts) against
 * the path before it (tfjs-wasm's C++ kernel, 2D transposes split into rank-3
 * ones), in one process, each the minimum of its runs (the machine is
 * shared), with the ratio and ns an element, and the calls a step weighted
 * into ms a step. Writes bench/out/transpose.json.
 *
 * `npm run bench -- transpose`
 */
import * as tf from '#tfjs';
import { initBackend } from '../src/backend/index.ts';
import { useWasmTranspose } from '../src/backend/wasm-transpose.ts';
import { timeStats, writeResult } from './util.ts';

/** preset, input shape, perm, calls a training step. */
export const TRANSPOSES: ['demo' | '224', number[], number[], number][] = [
  ['demo', [128, 16, 2, 16], [1, 0, 2, 3], 16],
  ['demo', [16, 256, 16], [0, 2, 1], 16],
  ['demo', [16, 128, 2, 16], [1, 0, 2, 3], 16],
  ['demo', [128, 16, 2, 16], [3, 0, 2, 1], 8],
  ['demo', [2, 32, 4, 32, 4, 32], [0, 1, 3, 2, 4, 5], 1],
  ['demo', [16, 128, 16], [0, 2, 1], 16],
  ['demo', [16, 256, 16], [2, 0, 1], 8],
  ['demo', [32, 16, 4, 16], [1, 0, 2, 3], 16],
  ['demo', [2, 32, 32, 4, 4, 32], [0, 1, 3, 2, 4, 5], 1],
  ['demo', [16, 32, 4, 16], [1, 0, 2, 3], 16],
  ['demo', [32, 16, 4, 16], [3, 0, 2, 1], 8],
  ['demo', [2, 8, 4, 8, 4, 32], [0, 1, 3, 2, 4, 5], 8],
  ['demo', [2, 4, 4, 4, 4, 64], [0, 1, 3, 2, 4, 5], 16],
  ['demo', [2, 256], [1, 0], 4],
  ['demo', [2048, 32], [1, 0], 2],
  ['demo', [8, 16, 8, 16], [3, 0, 2, 1], 4],
  ['224', [49, 64, 3, 32], [1, 0, 2, 3], 16],
  ['224', [4, 49, 12, 32], [1, 0, 2, 3], 48],
  ['224', [1, 56, 4, 56, 4, 96], [0, 1, 3, 2, 4, 5], 1],
  ['224', [49, 192, 49], [0, 2, 1], 8],
  ['224', [49, 192, 49], [2, 0, 1], 8],
  ['224', [1, 2, 7, 2, 7, 384], [0, 1, 3, 2, 4, 5], 24],
  ['224', [64, 49, 3, 32], [3, 0, 2, 1], 8],
  ['224', [49, 48, 49], [2, 0, 1], 24],
  ['224', [49, 48, 49], [0, 2, 1], 24],
  ['224', [49, 48, 32], [0, 2, 1], 24],
  ['224', [12, 2401], [1, 0], 12],
  ['224', [2401, 12], [1, 0], 12],
  ['224', [1, 56, 4, 56, 4, 3], [0, 1, 3, 2, 4, 5], 1],
];

/** Runs of a transpose: 20 to 400, ~2·10⁷ elements in all. */
const runsOf = (n: number) => Math.min(400, Math.max(20, Math.round(2e7 / n)));

export async function run() {
  const info = await initBackend('wasm');
  if (info.name !== 'wasm') throw new Error(info.message);
  console.log(info.message);
  const rows = TRANSPOSES.map(([preset, shape, perm, calls]) => {
    const x = tf.randomNormal(shape);
    const n = x.size;
    // wasm kernels run when called: no read-back
    const transpose = () => tf.transpose(x, perm).dispose();
    const ms = (on: boolean) => {
      useWasmTranspose(on);
      return timeStats(transpose, { warmup: 3, runs: runsOf(n) }).min;
    };
    const [before, ours] = [ms(false), ms(true)];
    x.dispose();
    return { preset, shape, perm, calls, before, ours };
  });
  console.log('ms a transpose (min of runs); before: tfjs-wasm (2D split to rank 3), ours: SIMD');
  console.log(
    'preset shape                  perm           calls  before    ours  ratio  ns/el before  ours',
  );
  for (const r of rows) {
    const n = r.shape.reduce((a, b) => a * b, 1);
    console.log(
      `${r.preset.padEnd(6)} ${`[${r.shape}]`.padEnd(22)} ${`[${r.perm}]`.padEnd(14)} ${String(r.calls).padStart(5)}` +
        ` ${r.before.toFixed(3).padStart(7)} ${r.ours.toFixed(3).padStart(7)} ${(r.before / r.ours).toFixed(2).padStart(6)}` +
        ` ${((r.before / n) * 1e6).toFixed(2).padStart(12)} ${((r.ours / n) * 1e6).toFixed(2).padStart(5)}`,
    );
  }
  const perStep = (preset: string) => {
    const of = rows.filter((r) => r.preset === preset);
    const sum = (f: (r: (typeof rows)[number]) => number) =>
      of.reduce((s, r) => s + r.calls * f(r), 0);
    return { before: sum((r) => r.before), ours: sum((r) => r.ours) };
  };
  const steps = { demo: perStep('demo'), '224': perStep('224') };
  for (const [preset, s] of Object.entries(steps))
    console.log(
      `${preset}: these transposes a step ${s.before.toFixed(2)} ms before, ${s.ours.toFixed(2)} ms ours (${(s.before / s.ours).toFixed(2)}×)`,
    );
  writeResult('transpose', { backend: info.message, rows, steps });
}
