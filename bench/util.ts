/** Small timing helpers shared by the benchmarks: medians, not means, and JSON output in bench/out/. */
import { mkdirSync, readFileSync, writeFileSync } from 'node:fs';
import { catalogue } from '../nodes/index.ts';
import { kernels } from '../src/compile/kernels/index.ts';
import { planGraph } from '../src/compile/plan.ts';
import { loadGraph } from '../src/graph/load.ts';
import type { TrainSettings } from '../src/train/checkpoint.ts';
import { optimizerSettings } from '../src/train/optim.ts';

export function time(fn: () => unknown, opts: { warmup?: number; runs?: number } = {}): number {
  return timeStats(fn, opts).median;
}

/** Median and minimum: on a shared machine the minimum is the better estimate of the intrinsic cost. */
export function timeStats(
  fn: () => unknown,
  { warmup = 3, runs = 20 } = {},
): { median: number; min: number } {
  for (let i = 0; i < warmup; i++) fn();
  const ts: number[] = [];
  for (let i = 0; i < runs; i++) {
    const t0 = performance.now();
    fn();
    ts.push(performance.now() - t0);
  }
  ts.sort((a, b) => a - b);
  return { median: ts[Math.floor(ts.length / 2)], min: ts[0] };
}

export async function timeAsync(
  fn: () => Promise<unknown>,
  { warmup = 1, runs = 5 } = {},
): Promise<number> {
  for (let i = 0; i < warmup; i++) await fn();
  const ts: number[] = [];
  for (let i = 0; i < runs; i++) {
    const t0 = performance.now();
    await fn();
    ts.push(performance.now() - t0);
  }
  ts.sort((a, b) => a - b);
  return ts[Math.floor(ts.length / 2)];
}

export function writeResult(name: string, result: unknown): void {
  mkdirSync('bench/out', { recursive: true });
  writeFileSync(`bench/out/${name}.json`, JSON.stringify(result, null, 2) + '\n');
}

/** Training settings of the benchmarks: AdamW 1e-3, poly schedule, no validation or checkpoints. */
export const benchSettings = (
  batchSize: number,
  steps: number,
  augment: boolean,
): TrainSettings => ({
  batchSize,
  steps,
  learningRate: 1e-3,
  schedule: 'poly',
  optimizer: optimizerSettings('adamw'),
  seed: 1,
  valEvery: 0,
  checkpointEvery: 0,
  patience: 0,
  augment,
  convention: 'synapse',
  normalisation: 'auto',
});

/** A preset file (`presets/<name>.json`) loaded and planned with the built-in kinds. */
export function planPreset(name: string) {
  const g = loadGraph(
    readFileSync(new URL(`../presets/${name}.json`, import.meta.url), 'utf8'),
    catalogue,
  );
  if (!g.ok) throw new Error(`${name}.json does not load`);
  const p = planGraph(g.graph, catalogue, kernels);
  if (!p.ok) throw new Error(`${name}.json does not compile`);
  return { graph: g.graph, plan: p.plan };
}
