/**
 * The page side of `npm run bench -- samratio-browser` (bench/samratio-browser.ts),
 * loaded into the editor's page by vite: a graph and its SAM twin compiled on
 * one backend, trained by src/train's loop on the demo slices, a few steps at
 * a time, so that the two can be raced in the same page.
 */
import * as tf from '#tfjs';
import { initBackend, type BackendInfo } from '../src/backend/index.ts';
import { CompiledModel } from '../src/compile/model.ts';
import { planGraph } from '../src/compile/plan.ts';
import { kernels } from '../src/compile/kernels/index.ts';
import { loadDemoFromUrl } from '../src/data/demo.ts';
import { loadGraph } from '../src/graph/load.ts';
import type { TrainSettings } from '../src/train/checkpoint.ts';
import { train, type TrainingData } from '../src/train/loop.ts';
import { caseSlices } from '../src/train/samples.ts';
import { catalogue } from '../nodes/index.ts';
import { countDispatches } from './profile.ts';

const models = new Map<string, CompiledModel>();
let data: TrainingData | undefined;

/**
 * Starts `backend` and compiles each graph document (JSON text, by name);
 * the demo slices come from `demoUrl`. Throws with the backend's message
 * when another backend started instead.
 */
export async function setUp(
  backend: string,
  docs: Record<string, string>,
  demoUrl: string,
): Promise<{ backend: BackendInfo; params: Record<string, number> }> {
  for (const m of models.values()) m.dispose();
  models.clear();
  const info = await initBackend(backend);
  if (info.name !== backend) throw new Error(`${backend} did not start: ${info.message}`);
  const demo = await loadDemoFromUrl(demoUrl);
  if (!demo.ok) throw new Error(demo.message);
  const params: Record<string, number> = {};
  for (const [name, text] of Object.entries(docs)) {
    const g = loadGraph(text, catalogue);
    if (!g.ok) throw new Error(`${name} does not load`);
    const p = planGraph(g.graph, catalogue, kernels);
    if (!p.ok) throw new Error(`${name} does not compile: ${p.errors[0]?.message}`);
    const model = CompiledModel.create(p.plan, { seed: 1 });
    models.set(name, model);
    params[name] = model.parameterCount;
    data = {
      classNames: p.plan.classNames,
      train: caseSlices(demo.value.splits.train, 'auto'),
      val: [],
      fingerprint: 'demo',
    };
  }
  return { backend: info, params };
}

/** Trains graph `name` for `settings.steps` steps: each step's wall time in ms, and the tensors left. */
export async function steps(
  name: string,
  settings: TrainSettings,
): Promise<{ ms: number[]; numTensors: number }> {
  const model = models.get(name);
  if (!model || !data) throw new Error(`samratio page: no graph "${name}" set up`);
  const ms: number[] = [];
  let last = performance.now();
  await train({
    model,
    data,
    settings,
    onEvent: (e) => {
      if (e.type !== 'step') return;
      const now = performance.now();
      ms.push(now - last);
      last = now;
    },
  });
  return { ms, numTensors: tf.memory().numTensors };
}

/** WebGPU programs dispatched by one training step of graph `name`. */
export function dispatches(name: string, settings: TrainSettings): Promise<number> {
  return countDispatches(() => steps(name, { ...settings, steps: 1 }));
}
