/**
 * Training throughput (images/s) of demo-mam at batch 2 on each backend this
 * machine has (wasm with tfjs's own matMul gradient, wasm with ours, cpu,
 * webgpu via Dawn), as ratios to wasm in the same process; and
 * tf.memory().numTensors over 100 steps on wasm (must stay flat).
 * `npm run bench -- train [--quick]`
 */
import { readFileSync } from 'node:fs';
import * as tf from '#tfjs';
import { initBackend } from '../src/backend/index.ts';
import { CompiledModel } from '../src/compile/model.ts';
import { planGraph } from '../src/compile/plan.ts';
import { loadDemo } from '../src/data/demo.ts';
import { demoDataDir, nodeFileSource } from '../src/data/node-fs.ts';
import { loadGraph } from '../src/graph/load.ts';
import { train, type TrainingData } from '../src/train/loop.ts';
import { caseSlices } from '../src/train/samples.ts';
import { benchSettings, writeResult } from './util.ts';
import { catalogue } from '../nodes/index.ts';
import { kernels } from '../src/compile/kernels/index.ts';

const BATCH = 2;

async function setup() {
  const g = loadGraph(
    readFileSync(new URL('../presets/demo-mam.json', import.meta.url), 'utf8'),
    catalogue,
  );
  if (!g.ok) throw new Error('demo-mam.json does not load');
  const p = planGraph(g.graph, catalogue, kernels);
  if (!p.ok) throw new Error('demo-mam.json does not compile');
  const d = await loadDemo(nodeFileSource(demoDataDir()));
  if (!d.ok) throw new Error(d.message);
  const data: TrainingData = {
    classNames: p.plan.classNames,
    train: caseSlices(d.value.splits.train, 'auto'),
    val: [],
    fingerprint: 'demo',
  };
  return { plan: p.plan, data };
}

const settings = (steps: number) => benchSettings(BATCH, steps, true);

/** Median images/s over `timed` steps after `warmup` steps, and numTensors after each step. */
async function measure(
  plan: Parameters<typeof CompiledModel.create>[0],
  data: TrainingData,
  warmup: number,
  timed: number,
) {
  const model = CompiledModel.create(plan, { seed: 1 });
  const stamps: number[] = [];
  const tensors: number[] = [];
  let last = performance.now();
  // validation is off (valEvery 0 validates only at the end; no val cases here)
  await train({
    model,
    data,
    settings: settings(warmup + timed),
    onEvent: (e) => {
      if (e.type !== 'step') return;
      const now = performance.now();
      if (e.step > warmup) stamps.push(now - last);
      last = now;
      tensors.push(tf.memory().numTensors);
    },
  });
  model.dispose();
  const sorted = [...stamps].sort((a, b) => a - b);
  const ms = sorted[Math.floor(sorted.length / 2)];
  return {
    imagesPerSec: Number(((BATCH * 1000) / ms).toFixed(3)),
    msPerStep: Number(ms.toFixed(1)),
    tensors,
  };
}

export async function run(argv: string[] = []) {
  const quick = argv.includes('--quick');
  const { plan, data } = await setup();
  const results: Record<
    string,
    { imagesPerSec: number; msPerStep: number; device: string } | { error: string }
  > = {};

  // 1. wasm with tfjs's own BatchMatMul gradient: measured before train() installs ours (which is global).
  const wasm = await initBackend('wasm');
  const { installFastMatMulGradient } = await import('../src/train/matmul-grad.ts');
  const original = await (async () => {
    // train() installs the fast gradient; time the original with a hand-rolled step instead.
    const model = CompiledModel.create(plan, { seed: 1 });
    const { segmentationLoss } = await import('../src/train/loss.ts');
    const [, H, W, C] = plan.input.shape;
    const x = tf.randomUniform([BATCH, H, W, C]) as tf.Tensor4D;
    const y = tf.randomUniform([BATCH, H, W], 0, plan.classNames.length, 'int32');
    const step = async () => {
      const l = tf.tidy(
        () =>
          tf.variableGrads(
            () => segmentationLoss(model.forward(x, { training: true }).logits, y).loss,
            model.variables,
          ).value,
      );
      await l.data();
      l.dispose();
    };
    await step();
    const ts: number[] = [];
    for (let i = 0; i < (quick ? 2 : 4); i++) {
      const t0 = performance.now();
      await step();
      ts.push(performance.now() - t0);
    }
    tf.dispose([x, y]);
    model.dispose();
    ts.sort((a, b) => a - b);
    return ts[Math.floor(ts.length / 2)];
  })();
  installFastMatMulGradient();
  const base = await measure(plan, data, 2, quick ? 4 : 10);
  results.wasm = {
    imagesPerSec: base.imagesPerSec,
    msPerStep: base.msPerStep,
    device: wasm.adapterInfo,
  };
  results['wasm (tfjs matMul gradient, loss+grad only)'] = {
    imagesPerSec: Number(((BATCH * 1000) / original).toFixed(3)),
    msPerStep: Number(original.toFixed(1)),
    device: wasm.adapterInfo,
  };

  // 2. tensors over 100 steps on wasm
  const mem = await measure(plan, data, 0, quick ? 20 : 100);
  const memory = {
    steps: mem.tensors.length,
    first: mem.tensors[0],
    step5: mem.tensors[4],
    last: mem.tensors.at(-1),
    min: Math.min(...mem.tensors),
    max: Math.max(...mem.tensors),
  };

  // 3. the other backends, few steps (they are slow here)
  for (const name of ['cpu', 'webgpu'] as const) {
    const info = await initBackend(name);
    if (info.name !== name) {
      results[name] = { error: info.message };
      continue;
    }
    try {
      const r = await measure(plan, data, 1, 2);
      results[name] = {
        imagesPerSec: r.imagesPerSec,
        msPerStep: r.msPerStep,
        device: info.adapterInfo,
      };
    } catch (e) {
      results[name] = { error: (e as Error).message };
    }
  }
  await initBackend('wasm');

  const wasmRate = base.imagesPerSec;
  const ratios = Object.fromEntries(
    Object.entries(results).map(([k, v]) => [
      k,
      'imagesPerSec' in v ? Number((v.imagesPerSec / wasmRate).toFixed(3)) : null,
    ]),
  );
  console.log(
    `train: demo-mam (128×128×1, ${plan.classNames.length} classes), batch ${BATCH}, AdamW, augmentation on`,
  );
  for (const [k, v] of Object.entries(results)) {
    if ('error' in v) console.log(`  ${k.padEnd(44)} unavailable: ${v.error}`);
    else
      console.log(
        `  ${k.padEnd(44)} ${v.imagesPerSec.toFixed(2).padStart(7)} images/s  ${String(v.msPerStep).padStart(8)} ms/step  ${ratios[k]}× wasm  (${v.device})`,
      );
  }
  console.log(
    `  numTensors over ${memory.steps} steps on wasm: first ${memory.first}, step 5 ${memory.step5}, last ${memory.last} (min ${memory.min}, max ${memory.max})`,
  );
  const out = {
    model: 'presets/demo-mam.json',
    batch: BATCH,
    results,
    ratiosToWasm: ratios,
    memory,
  };
  writeResult('train', out);
  return out;
}

if (import.meta.url === `file://${process.argv[1]}`) await run(process.argv.slice(2));
