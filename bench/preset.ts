/** A preset of presets/ loaded and planned, for the benchmarks. */
import { readFileSync } from 'node:fs';
import { catalogue } from '../nodes/index.ts';
import { kernels } from '../src/compile/kernels/index.ts';
import { planGraph, type Plan } from '../src/compile/plan.ts';
import { loadGraph } from '../src/graph/load.ts';
import type { GraphDoc } from '../src/graph/types.ts';

export function loadPreset(name: string): { graph: GraphDoc; plan: Plan } {
  const g = loadGraph(
    readFileSync(new URL(`../presets/${name}.json`, import.meta.url), 'utf8'),
    catalogue,
  );
  if (!g.ok) throw new Error(`${name}.json does not load`);
  const p = planGraph(g.graph, catalogue, kernels);
  if (!p.ok) throw new Error(`${name}.json does not compile`);
  return { graph: g.graph, plan: p.plan };
}
