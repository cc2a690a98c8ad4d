/**
 * Training-step time (forward + backward + SGD update, softmax cross-entropy)
 * of presets/demo-mam.json, per backend; and two ratios measured on wasm in
 * the same process, runs interleaved so drift hits both sides alike:
 *
 * - MAM / SAM: demo-mam against the same graph with every MAM unit swapped
 *   to its SAM block (memory links dropped). Goal ≤ 1.03.
 * - compiled / hand-written: the compiled model against the same network
 *   written directly on src/ops calls (bench/handwritten-demo.ts), same
 *   weights. Goal ≤ 1.05.
 *
 * Medians; JSON to bench/out/compile.json. `npx tsx bench/run.ts compile`
 * (`-- --quick` for fewer runs; `--backends=wasm,cpu` to choose).
 */
import * as tf from '#tfjs';
import { readFileSync } from 'node:fs';
import { cpus, loadavg } from 'node:os';
import { initBackend } from '../src/backend/index.ts';
import { CompiledModel } from '../src/compile/model.ts';
import { planGraph } from '../src/compile/plan.ts';
import type { GraphDoc } from '../src/graph/types.ts';
import { handwrittenDemo } from './handwritten-demo.ts';
import { writeResult } from './util.ts';
import { catalogue } from '../nodes/index.ts';
import { kernels } from '../src/compile/kernels/index.ts';

const CLASSES = 8;
const LR = 0.01;

/** demo-mam with every MAM unit replaced by its SAM block, memory links removed. */
export function mamToSam(doc: GraphDoc): GraphDoc {
  return {
    ...doc,
    nodes: doc.nodes.map((n) => {
      if (n.type !== 'mam-swin-block') return n;
      const { memoryLayout: _, ...params } = n.params;
      return { ...n, type: 'swin-block', params };
    }),
    links: doc.links.filter((l) => l.from.port !== 'memOut'),
  };
}

function compile(doc: GraphDoc): CompiledModel {
  const p = planGraph(doc, catalogue, kernels);
  if (!p.ok) throw new Error(p.errors.map((e) => e.message).join('\n'));
  return CompiledModel.create(p.plan, { seed: 1 });
}

type Forward = (x: tf.Tensor4D, seed: number) => tf.Tensor4D;

/** One SGD step; resolves when the loss has been read back (so GPU work is included). */
async function trainStep(
  vars: tf.Variable[],
  fwd: Forward,
  x: tf.Tensor4D,
  onehot: tf.Tensor,
  seed: number,
): Promise<void> {
  const loss = tf.tidy(() => {
    const { value, grads } = tf.variableGrads(
      () => tf.neg(tf.mean(tf.sum(tf.mul(onehot, tf.logSoftmax(fwd(x, seed))), -1))) as tf.Scalar,
      vars,
    );
    for (const v of vars) v.assign(tf.sub(v, tf.mul(grads[v.name], LR)));
    return value;
  });
  await loss.data();
  loss.dispose();
}

function batch(n: number): { x: tf.Tensor4D; onehot: tf.Tensor } {
  return tf.tidy(() => ({
    x: tf.randomNormal([n, 128, 128, 1], 0, 1, 'float32', 3) as tf.Tensor4D,
    onehot: tf.oneHot(
      tf.cast(tf.floor(tf.randomUniform([n, 128, 128], 0, CLASSES, 'float32', 4)), 'int32'),
      CLASSES,
    ),
  }));
}

const median = (xs: number[]) => [...xs].sort((a, b) => a - b)[Math.floor(xs.length / 2)];

interface Contender {
  name: string;
  vars: tf.Variable[];
  fwd: Forward;
}

/** Times contenders in interleaved rounds; returns the median ms per step of each. */
async function race(
  cs: Contender[],
  B: number,
  warmup: number,
  runs: number,
): Promise<Record<string, number>> {
  const { x, onehot } = batch(B);
  const times: Record<string, number[]> = Object.fromEntries(cs.map((c) => [c.name, []]));
  let seed = 0;
  for (let r = 0; r < warmup + runs; r++) {
    for (const c of cs) {
      const t0 = performance.now();
      await trainStep(c.vars, c.fwd, x, onehot, ++seed);
      if (r >= warmup) times[c.name].push(performance.now() - t0);
    }
  }
  tf.dispose([x, onehot]);
  return Object.fromEntries(cs.map((c) => [c.name, Number(median(times[c.name]).toFixed(1))]));
}

const compiledContender = (name: string, m: CompiledModel): Contender => ({
  name,
  vars: m.variables,
  fwd: (x, seed) => m.forward(x, { training: true, seed }).logits,
});

export async function run(args: string[] = []) {
  const quick = args.includes('--quick');
  const only = args
    .find((a) => a.startsWith('--backends='))
    ?.slice(11)
    .split(',');
  const doc = JSON.parse(readFileSync('presets/demo-mam.json', 'utf8')) as GraphDoc;
  const result: Record<string, unknown> = {
    graph: 'presets/demo-mam.json',
    lossAndUpdate: 'softmax cross-entropy, SGD',
  };

  // Step time per backend (batch 1; cpu and webgpu-on-SwiftShader are slow, so few runs).
  const perBackend: Record<string, unknown> = {};
  const plans = { cpu: [1, 2], wasm: [2, quick ? 3 : 7], webgpu: [1, quick ? 1 : 3] } as const;
  for (const name of ['wasm', 'cpu', 'webgpu'] as const) {
    if (only && !only.includes(name)) continue;
    const info = await initBackend(name);
    if (info.name !== name) {
      console.log(`compile: ${name} skipped: ${info.message}`);
      perBackend[name] = { skipped: info.message };
      continue;
    }
    const m = compile(doc);
    const [warmup, runs] = plans[name];
    const t0 = performance.now();
    const ms = (await race([compiledContender('mam', m)], 1, warmup, runs)).mam;
    m.dispose();
    perBackend[name] = { adapter: info.adapterInfo, batch: 1, warmup, runs, msPerStep: ms };
    console.log(
      `compile: demo-mam train step on ${name} (${info.adapterInfo}), batch 1: ${ms} ms (median of ${runs}; ${((performance.now() - t0) / 1000).toFixed(0)} s in all)`,
    );
  }
  result.perBackend = perBackend;

  if (!only || only.includes('wasm')) {
    await initBackend('wasm');
    const B = 2;
    const runs = quick ? 3 : 15;
    const mam = compile(doc);
    const sam = compile(mamToSam(doc));
    // the hand-written network computes with the MAM model's variables: check it is the same network first
    const lookup = (node: string, name: string) => mam.weights.get(`${node}/${name}`)!.variable;
    const check = tf.tidy(() => {
      const { x } = batch(1);
      const a = mam.predict(x);
      const b = handwrittenDemo(x, lookup);
      return tf.div(tf.max(tf.abs(tf.sub(a, b))), tf.max(tf.abs(a))).dataSync()[0];
    });
    if (!(check < 1e-5))
      throw new Error(`the hand-written network differs from the compiled one (${check})`);
    const t = await race(
      [
        compiledContender('mam', mam),
        compiledContender('sam', sam),
        {
          name: 'handwritten',
          vars: mam.variables,
          fwd: (x, seed) => handwrittenDemo(x, lookup, { training: true, seed }),
        },
      ],
      B,
      2,
      runs,
    );
    mam.dispose();
    sam.dispose();
    result.wasm = {
      batch: B,
      runs,
      msPerStep: t,
      handwrittenMaxRelDiff: check,
      ratioMamToSam: Number((t.mam / t.sam).toFixed(3)),
      goalMamToSam: 1.03,
      ratioCompiledToHandwritten: Number((t.mam / t.handwritten).toFixed(3)),
      goalCompiledToHandwritten: 1.05,
    };
    console.log(
      `compile (wasm, batch ${B}, median of ${runs}, interleaved): MAM ${t.mam} ms, SAM ${t.sam} ms → MAM/SAM ${(t.mam / t.sam).toFixed(3)} (goal ≤ 1.03); ` +
        `hand-written ${t.handwritten} ms → compiled/hand-written ${(t.mam / t.handwritten).toFixed(3)} (goal ≤ 1.05)`,
    );
  }
  // timings on a shared machine: record how busy it was
  result.machine = { cpus: cpus().length, loadavg1mAtEnd: Number(loadavg()[0].toFixed(2)) };
  writeResult('compile', result);
  return result;
}

if (import.meta.url === `file://${process.argv[1]}`) await run(process.argv.slice(2));
