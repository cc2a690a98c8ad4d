/**
 * What the 3D models cost on wasm (one thread in Node), so a user knows what
 * their machine can do: forward + backward of one 64³ × 1 crop of each demo
 * preset (loss DiceCE as the demos train), and the full 96³ forward of
 * `swinunetr-mam` (the FLARE configuration). Wall time, tfjs's peak bytes
 * (tf.profile) and the process's peak RSS (resident set, OS-measured).
 * `npm run bench -- vol3d [--full] [--only=swinunetr-mam-demo,nnformer-mam-demo,swinunetr-mam]
 * [--batch N] [--profile]`: `--batch` runs N crops at once (the demos train 2),
 * `--profile` times each tfjs kernel by CPU time and writes the table (calls and
 * CPU ms by kernel name, and by name and input shapes) beside the result.
 *
 * The 96³ forward runs only with `--full` (or `--only=swinunetr-mam`): it
 * takes minutes. It fits tfjs-backend-wasm's 4 GiB heap since inference
 * runs the window attention in chunks of windows whose logits stay under
 * 64 MiB (src/ops/vol3d-attention.ts; the first stage's 343 windows × 3 heads
 * × 343² were 484 MiB a tensor), each node's kernel in its own tidy, and the
 * 3D CNN blocks freeing each stage once the next is made (their 96³ × 96
 * channel stages in decoder1 held 2.6 GiB). Measured here, 2026-11-30, on
 * the shared 2-core machine (load 13–17, unit tests running beside it):
 * 261 s, peak tfjs 2,420 MiB, peak RSS 3,537 MiB; it trapped after 61 s at
 * 3.8 GiB RSS before. The largest holder now (src/backend/meter.ts, buffers
 * alive at each node's peak) is decoder1, the UNETR up block at 96³: 1.84 GiB
 * (its 96-channel concat, padded copy and one conv3d depth tap's planes);
 * then stage 1's second Swin block, 1.44 GiB (its token-sized intermediates
 * stay until it returns), and encoder1, 1.17 GiB.
 */
import { loadavg } from 'node:os';
import * as tf from '#tfjs';
import { initBackend } from '../src/backend/index.ts';
import { stepOutOfMemory } from '../src/backend/out-of-memory.ts';
import { profile } from '../src/backend/profile.ts';
import { CompiledModel } from '../src/compile/model.ts';
import { segmentationLoss } from '../src/train/loss.ts';
import { loadPreset } from './preset.ts';
import { byCpuTime, cpuNow, kernelTable, type KernelRow } from './profile.ts';
import { writeResult } from './util.ts';

const MiB = 2 ** 20;

interface Measured {
  preset: string;
  what: 'forward+backward' | 'forward';
  input: number[];
  params: number;
  seconds: number;
  cpuSeconds: number;
  peakTfjsMiB: number;
  peakRssMiB: number;
  kernels?: KernelRow[];
  kernelsByShape?: KernelRow[];
}

interface Options {
  batch: number;
  profile: boolean;
}

const compile = (name: string): CompiledModel =>
  CompiledModel.create(loadPreset(name).plan, { seed: 0 });

async function measure(name: string, backward: boolean, o: Options): Promise<Measured> {
  const model = compile(name);
  const B = o.batch;
  const shape = [B, ...model.plan.input.shape.slice(1)];
  const x = tf.randomNormal(shape, 0, 1, 'float32', 1) as unknown as tf.Tensor4D;
  const [, D, H, W] = shape;
  const k = model.plan.classNames.length;
  const labels = tf.zeros([B, D * H, W], 'int32');
  const t0 = performance.now();
  const c0 = cpuNow();
  // the profiler reads every kernel's output back to check for NaN unless told not to
  if (o.profile) tf.env().set('CHECK_COMPUTATION_FOR_ERRORS', false);
  const profiled = (f: () => Promise<void>) =>
    o.profile ? byCpuTime(() => profile(f)) : profile(f);
  const prof = await profiled(async () => {
    try {
      await onePass();
    } catch (e) {
      // out of wasm memory: the line `mam train` gives for this batch and crop
      throw backward ? stepOutOfMemory(e, B, shape) : e;
    }
  });
  async function onePass() {
    const out = backward
      ? tf.tidy(() => {
          const { value, grads } = tf.variableGrads(() => {
            const logits = model.forward(x, { training: true }).logits;
            const flat = tf.reshape(logits, [B, D * H, W, k]) as tf.Tensor4D;
            return segmentationLoss(flat, labels, { ceWeight: 1, diceWeight: 1 }).loss;
          }, model.variables);
          tf.dispose(grads);
          return value;
        })
      : model.predict(x);
    await out.data();
    out.dispose();
  }
  const seconds = (performance.now() - t0) / 1000;
  const cpuSeconds = (cpuNow() - c0) / 1000;
  tf.dispose([x, labels]);
  const params = model.parameterCount;
  model.dispose();
  return {
    preset: name,
    what: backward ? 'forward+backward' : 'forward',
    input: shape,
    params,
    seconds: Number(seconds.toFixed(1)),
    cpuSeconds: Number(cpuSeconds.toFixed(1)),
    peakTfjsMiB: Math.round(prof.peakBytes / MiB),
    peakRssMiB: Math.round((process.resourceUsage().maxRSS * 1024) / MiB),
    ...(o.profile
      ? {
          kernels: await kernelTable(prof.kernels),
          kernelsByShape: (await kernelTable(prof.kernels, true)).slice(0, 60),
        }
      : {}),
  };
}

const CASES: [string, boolean][] = [
  ['nnformer-mam-demo', true],
  ['swinunetr-mam-demo', true],
  ['swinunetr-mam', false],
];

export async function run(args: string[]): Promise<void> {
  const picked = args.find((a) => a.startsWith('--only='));
  const only = picked
    ? picked.slice('--only='.length).split(',')
    : [
        'nnformer-mam-demo',
        'swinunetr-mam-demo',
        ...(args.includes('--full') ? ['swinunetr-mam'] : []),
      ];
  const at = args.indexOf('--batch');
  const o: Options = {
    batch: at >= 0 ? Number(args[at + 1]) : 1,
    profile: args.includes('--profile'),
  };
  if (!Number.isInteger(o.batch) || o.batch < 1)
    throw new Error(`vol3d: --batch takes a whole number ≥ 1, got ${args[at + 1]}`);
  await initBackend('wasm');
  const results: Measured[] = [];
  for (const [name, backward] of CASES) {
    if (!only.includes(name)) continue;
    const r = await measure(name, backward, o);
    results.push(r);
    // peak RSS is the process's so far: cases run smallest first, so each row's is its own
    console.log(
      `vol3d ${r.preset} ${r.what} ${r.input.join('×')} on wasm: ${r.seconds} s (${r.cpuSeconds} s of CPU), peak tfjs ${r.peakTfjsMiB} MiB, peak RSS ${r.peakRssMiB} MiB (${r.params.toLocaleString('en')} params)`,
    );
    for (const k of r.kernels?.slice(0, 15) ?? [])
      console.log(
        `  ${k.name.padEnd(40)} ${String(k.calls).padStart(6)} calls ${k.ms.toFixed(0).padStart(9)} ms CPU`,
      );
  }
  // the machine's 1-minute load average at the end: the numbers are wall-clock
  writeResult(o.batch === 1 ? 'vol3d' : `vol3d-batch${o.batch}`, {
    backend: 'wasm',
    batch: o.batch,
    loadAverage: loadavg()[0],
    results,
  });
}
