/**
 * Our side of `npm run bench -- peer`, in its own process (the wasm thread
 * count is fixed when the backend starts): a graph trained by src/train's
 * loop on the demo slices (AdamW, no augmentation), answering one JSON line
 * per command read from stdin, like bench/peer_torch.py:
 *
 *   steps N    N training steps       → {"ms": [...], "cpuMs": [...], "rss", "numBytes", "numTensors"}
 *   profile P [wall]  one step under tf.profile, each kernel timed by CPU time (or by
 *              the wall clock), kernels by
 *              name written to P.json/P.txt
 *              (and by name and input shapes to P-shapes.txt)
 *              → {"peakBytes", "kernels", "ms"}
 *   sites P    one step's kernel calls by the code that made them (bench/profile.ts
 *              kernelSites), written to P.txt → {"kernelCalls", "top"}
 *   quit
 *
 * `tsx bench/peer-ours.ts PRESET BATCH BACKEND THREADS [--sam]`
 */
import { mkdirSync, readFileSync, writeFileSync } from 'node:fs';
import { dirname } from 'node:path';
import { createInterface } from 'node:readline';
import * as tf from '#tfjs';
import { initBackend } from '../src/backend/index.ts';
import { profile } from '../src/backend/profile.ts';
import { CompiledModel } from '../src/compile/model.ts';
import { planGraph } from '../src/compile/plan.ts';
import { kernels } from '../src/compile/kernels/index.ts';
import { loadDemo } from '../src/data/demo.ts';
import { demoDataDir, nodeFileSource } from '../src/data/node-fs.ts';
import { loadGraph } from '../src/graph/load.ts';
import { train, type TrainingData } from '../src/train/loop.ts';
import { caseSlices } from '../src/train/samples.ts';
import { catalogue } from '../nodes/index.ts';
import { mamToSam } from './compile.ts';
import { byCpuTime, countDispatches, cpuNow, kernelSites, kernelTable } from './profile.ts';
import { benchSettings } from './util.ts';

const [presetPath, batchArg, backendArg, threadsArg] = process.argv.slice(2);
const sam = process.argv.includes('--sam');
const batch = Number(batchArg);

const info = await initBackend(backendArg, { threads: Number(threadsArg) });
if (info.name !== backendArg) throw new Error(info.message);
const g = loadGraph(readFileSync(presetPath, 'utf8'), catalogue);
if (!g.ok) throw new Error(`${presetPath} does not load`);
const p = planGraph(sam ? mamToSam(g.graph) : g.graph, catalogue, kernels);
if (!p.ok) throw new Error(`${presetPath} does not compile`);
const demo = await loadDemo(nodeFileSource(demoDataDir()));
if (!demo.ok) throw new Error(demo.message);
const data: TrainingData = {
  classNames: p.plan.classNames,
  train: caseSlices(demo.value.splits.train, 'auto'),
  val: [],
  fingerprint: 'demo',
};
const model = CompiledModel.create(p.plan, { seed: 1 });

const settings = (steps: number) => benchSettings(batch, steps, false);

/**
 * Runs `steps` steps of the loop; each step's wall and CPU time (of this
 * process, all its threads) from the previous step's end (or the start).
 */
async function steps(n: number): Promise<{ ms: number[]; cpuMs: number[] }> {
  const ms: number[] = [];
  const cpuMs: number[] = [];
  let last = performance.now();
  let lastCpu = cpuNow();
  await train({
    model,
    data,
    settings: settings(n),
    onEvent: (e) => {
      if (e.type !== 'step') return;
      const now = performance.now();
      const cpu = cpuNow();
      ms.push(now - last);
      cpuMs.push(cpu - lastCpu);
      last = now;
      lastCpu = cpu;
    },
  });
  return { ms, cpuMs };
}

/**
 * tfjs's numBytes counts every tensor's size, also tensors that share one
 * buffer (reshapes, the saved copies of src/backend/wasm-identity.ts); the
 * wasm heap (which grows to the peak and never shrinks) is what was allocated.
 */
const memory = () => ({
  rss: process.memoryUsage().rss,
  numBytes: tf.memory().numBytes,
  numTensors: tf.memory().numTensors,
  numDataBuffers: tf.memory().numDataBuffers,
  wasmHeapBytes: (tf.backend() as { wasm?: { HEAPU8: Uint8Array } }).wasm?.HEAPU8.length ?? null,
});

async function answer(line: string): Promise<unknown> {
  const [cmd, arg, clock] = line.trim().split(/\s+/);
  if (cmd === 'steps') return { ...(await steps(Number(arg))), ...memory() };
  if (cmd === 'profile') {
    // the profiler reads every kernel's output back to check for NaN unless told not to
    tf.env().set('CHECK_COMPUTATION_FOR_ERRORS', false);
    const t0 = performance.now();
    const profiled = () => profile(() => steps(1).then(() => tf.scalar(0)));
    // `profile P wall`: each kernel timed by the wall clock (with a thread pool,
    // a kernel's CPU time adds up every thread's, spinning included)
    const prof = clock === 'wall' ? await profiled() : await byCpuTime(profiled);
    const ms = performance.now() - t0;
    const table = await kernelTable(prof.kernels);
    const byShape = await kernelTable(prof.kernels, true);
    mkdirSync(dirname(arg), { recursive: true });
    writeFileSync(
      `${arg}.json`,
      JSON.stringify({ backend: info.adapterInfo, ms, table, byShape }, null, 2),
    );
    const lines = (rows: typeof table) =>
      rows
        .map(
          (k) =>
            `${k.name.padEnd(28)} ${k.calls.toString().padStart(6)} calls ${k.ms.toFixed(1).padStart(9)} ms`,
        )
        .join('\n') + '\n';
    writeFileSync(`${arg}.txt`, lines(table));
    writeFileSync(`${arg}-shapes.txt`, lines(byShape));
    return {
      peakBytes: prof.peakBytes,
      kernelCalls: prof.kernels.length,
      ms,
      top: table.slice(0, 10),
    };
  }
  if (cmd === 'sites') {
    const { calls, sites } = await kernelSites(() => steps(1));
    mkdirSync(dirname(arg), { recursive: true });
    writeFileSync(
      `${arg}.txt`,
      sites.map((s) => `${String(s.calls).padStart(5)} ${s.site}`).join('\n') + '\n',
    );
    return { kernelCalls: calls, top: sites.slice(0, 10) };
  }
  if (cmd === 'dispatches') return { dispatches: await countDispatches(() => steps(1)) };
  if (cmd === 'memory') return memory();
  throw new Error(`unknown command ${cmd}`);
}

console.log(JSON.stringify({ ready: info.adapterInfo, params: model.parameterCount }));
for await (const line of createInterface({ input: process.stdin })) {
  if (line.trim() === 'quit') break;
  console.log(JSON.stringify(await answer(line)));
}
model.dispose();
process.exit(0);
