/**
 * DA-TransUNet at full size: one training step's forward + backward
 * (softmax cross-entropy, batch 1) of `da-transunet-mam` and `da-transunet`
 * at 224²×3 and of `da-transunet-mam-demo`, per backend: time, peak tensor
 * bytes (by buffer, src/backend/meter.ts), the process's RSS and, on wasm, the WebAssembly heap
 * (it only grows, so its size after the step is the step's high-water mark;
 * tfjs-backend-wasm stops at 4 GiB). Prints the MAM/SAM step-time ratio and,
 * with `--layers`, the bytes each node leaves alive for the backward pass.
 * `npm run bench -- da [--backends wasm,cpu] [--presets a,b] [--runs 2] [--layers]`
 */
import { loadavg } from 'node:os';
import * as tf from '#tfjs';
import { initBackend } from '../src/backend/index.ts';
import { meterBuffers, type BufferMeter } from '../src/backend/meter.ts';
import { CompiledModel } from '../src/compile/model.ts';
import type { Plan } from '../src/compile/plan.ts';
import { segmentationLoss } from '../src/train/loss.ts';
import { installFastMatMulGradient } from '../src/train/matmul-grad.ts';
import { loadPreset } from './preset.ts';
import { writeResult } from './util.ts';

const MiB = 2 ** 20;
const mib = (b: number) => Number((b / MiB).toFixed(1));

const list = (args: string[], name: string, dflt: string[]) => {
  const i = args.indexOf(`--${name}`);
  return i >= 0 ? args[i + 1].split(',') : dflt;
};

/** The WebAssembly heap of the wasm backend (0 on other backends). */
function wasmHeapBytes(): number {
  const b = tf.backend() as unknown as { wasm?: { HEAPU8?: Uint8Array } };
  return b.wasm?.HEAPU8?.buffer.byteLength ?? 0;
}

/**
 * Bytes each step of the plan leaves alive during a training forward pass
 * (its output plus what the tape keeps for the backward pass), by wrapping
 * the kernels; the largest first.
 */
function layerBytes(
  plan: Plan,
  meter: BufferMeter,
): { restore: () => void; rows: { node: string; mib: number }[] } {
  const rows: { node: string; mib: number }[] = [];
  const saved = plan.steps.map((s) => s.kernel);
  for (const step of plan.steps) {
    const k = step.kernel;
    if (!k) continue;
    step.kernel = Object.assign(
      (ctx: Parameters<typeof k>[0]) => {
        const before = meter.live;
        const out = k(ctx);
        if (!rows.some((r) => r.node === step.id))
          rows.push({ node: step.id, mib: mib(meter.live - before) });
        return out;
      },
      { recompute: k.recompute },
    );
  }
  return {
    rows,
    restore: () => plan.steps.forEach((s, i) => (s.kernel = saved[i])),
  };
}

interface Measure {
  preset: string;
  backend: string;
  msPerStep?: number;
  peakTensorMiB?: number;
  /** Buffers alive when the loss is computed: what the backward pass starts from. */
  afterForwardMiB?: number;
  rssMiB?: number;
  wasmHeapMiB?: number;
  error?: string;
  layers?: { node: string; mib: number }[];
}

async function measure(preset: string, backend: string, runs: number, layers: boolean) {
  const { plan } = loadPreset(preset);
  const model = CompiledModel.create(plan, { seed: 1 });
  const [, H, W, C] = plan.input.shape;
  const x = tf.randomUniform([1, H, W, C], 0, 1, 'float32', 1) as tf.Tensor4D;
  const y = tf.randomUniform([1, H, W], 0, plan.classNames.length, 'int32', 2);
  let afterForward = 0;
  const meter = meterBuffers();
  const step = async () => {
    const loss = tf.tidy(() => {
      const { value, grads } = tf.variableGrads(() => {
        const l = segmentationLoss(model.forward(x, { training: true }).logits, y).loss;
        afterForward = meter.live;
        return l;
      }, model.variables);
      tf.dispose(Object.values(grads));
      return value;
    });
    await loss.data();
    loss.dispose();
  };
  const r: Measure = { preset, backend };
  const probe = layers ? layerBytes(plan, meter) : undefined;
  try {
    const t0 = performance.now();
    await step();
    const first = performance.now() - t0;
    probe?.restore();
    r.peakTensorMiB = mib(meter.peak);
    const ts = [first];
    for (let i = 1; i < runs; i++) {
      const t = performance.now();
      await step();
      ts.push(performance.now() - t);
    }
    ts.sort((a, b) => a - b);
    r.msPerStep = Math.round(ts[Math.floor(ts.length / 2)]);
  } catch (e) {
    r.error = (e as Error).message.split('\n')[0];
    r.peakTensorMiB = mib(meter.peak);
  }
  r.afterForwardMiB = mib(afterForward);
  meter.stop();
  probe?.restore();
  if (probe) r.layers = [...probe.rows].sort((a, b) => b.mib - a.mib).slice(0, 30);
  r.rssMiB = mib(process.memoryUsage().rss);
  if (backend === 'wasm') r.wasmHeapMiB = mib(wasmHeapBytes());
  tf.dispose([x, y]);
  model.dispose();
  return r;
}

export async function run(args: string[] = []) {
  const backends = list(args, 'backends', ['wasm', 'cpu']);
  const presets = list(args, 'presets', [
    'da-transunet-mam',
    'da-transunet',
    'da-transunet-mam-demo',
  ]);
  const i = args.indexOf('--runs');
  const runs = i >= 0 ? Number(args[i + 1]) : 2;
  const layers = args.includes('--layers');
  installFastMatMulGradient(); // what training uses
  const results: Measure[] = [];
  for (const b of backends) {
    const info = await initBackend(b as 'wasm' | 'cpu');
    console.log(`da: ${info.message}, load average ${loadavg()[0].toFixed(1)}`);
    for (const p of presets) {
      const before = tf.memory().numTensors;
      const m = await measure(p, b, runs, layers);
      if (tf.memory().numTensors !== before) m.error ??= 'tensors leaked';
      results.push(m);
      const { layers: rows, ...line } = m;
      console.log(`  ${JSON.stringify(line)}`);
      for (const row of rows ?? []) console.log(`    ${row.mib} MiB  ${row.node}`);
    }
    const ms = (p: string) => results.find((m) => m.backend === b && m.preset === p)?.msPerStep;
    const mam = ms('da-transunet-mam');
    const sam = ms('da-transunet');
    if (mam && sam) console.log(`  ${b}: MAM/SAM step time ${(mam / sam).toFixed(3)}`);
  }
  writeResult('da', { loadAverage1m: loadavg()[0], results });
  return results;
}

if (import.meta.url === `file://${process.argv[1]}`) await run(process.argv.slice(2));
