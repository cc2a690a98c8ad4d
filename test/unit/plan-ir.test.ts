// The plan as plain data (`mam inspect --plan`): steps in order, the windows
// the blocks really use (MAM-SPEC §1: w_eff = min(w, grid), no shift when one
// window covers the grid) and the memory hand-offs with their layouts.
import { execFileSync } from 'node:child_process';
import { mkdtempSync, readFileSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { describe, expect, it } from 'vitest';
import { catalogue } from '../../nodes/index.ts';
import { kernels } from '../../src/compile/kernels/index.ts';
import { planGraph, planIR } from '../../src/compile/plan.ts';
import { loadGraph } from '../../src/graph/load.ts';

const FILE = 'presets/swin-unet-mam-sts.json';
const raw = JSON.parse(readFileSync(FILE, 'utf8')) as {
  nodes: { id: string; type: string; params: Record<string, number> }[];
};

function ir() {
  const loaded = loadGraph(readFileSync(FILE, 'utf8'), catalogue);
  if (!loaded.ok) throw new Error('preset does not load');
  const r = planGraph(loaded.graph, catalogue, kernels);
  if (!r.ok) throw new Error(r.errors.map((e) => e.message).join('\n'));
  return planIR(r.plan);
}

describe('plan IR', () => {
  it('is plain data: every node once, each after the steps that feed it', () => {
    const p = ir();
    expect(JSON.parse(JSON.stringify(p))).toEqual(p);
    expect(p.steps.map((s) => s.id).sort()).toEqual(raw.nodes.map((n) => n.id).sort());
    const seen = new Set<string>();
    for (const s of p.steps) {
      for (const from of Object.values(s.inputs)) expect(seen.has(from.node)).toBe(true);
      seen.add(s.id);
    }
  });

  it('resolves each block’s window on its grid and says how memory is handed on', () => {
    const p = ir();
    const byId = new Map(raw.nodes.map((n) => [n.id, n]));
    const blocks = p.steps.filter((s) => s.type.endsWith('swin-block'));
    // encoder 2-2-6-2, decoder stages 1–3 with 6-2-2 (Swin-Unet: layers_up.0 only expands)
    expect(blocks).toHaveLength(2 + 2 + 6 + 2 + (6 + 2 + 2));
    const grids = new Set<number>();
    for (const s of blocks) {
      const g = (s.outputs.out as { grid: number[] }).grid[0];
      grids.add(g);
      const { window: w, shift } = byId.get(s.id)!.params;
      expect(s.window).toEqual(g <= w ? { window: g, shift: 0 } : { window: w, shift });
    }
    expect([...grids].sort((a, b) => a - b)).toEqual([7, 14, 28, 56]);
    // the bottleneck (7×7) is one window: no shift there, though its odd blocks ask for 3
    expect(blocks.some((s) => s.window!.window === 7 && byId.get(s.id)!.params.shift === 3)).toBe(
      true,
    );
    const merges = p.steps.filter((s) => s.type === 'memory-merging');
    expect(merges).toHaveLength(3);
    // each merger hands on in the windows of the first block of the next stage, which reads it
    for (const [i, m] of merges.entries())
      expect(m.memoryOut).toEqual({
        layout: 'window',
        window: 7,
        reader: `layers.${i + 1}.blocks.0`,
      });
  });

  it('is what `mam inspect --plan` prints', () => {
    const out = execFileSync('node', ['bin/mam.js', 'inspect', FILE, '--plan'], {
      encoding: 'utf8',
    });
    expect(JSON.parse(out)).toEqual(ir());
  });

  it('refuses a graph with errors with exit 1, naming the node', () => {
    const doc = JSON.parse(readFileSync(FILE, 'utf8'));
    doc.nodes.find((n: { id: string }) => n.id === 'layers.0.blocks.0').params.heads = 5;
    const file = join(mkdtempSync(join(tmpdir(), 'plan-ir-')), 'bad.json');
    writeFileSync(file, JSON.stringify(doc));
    let status = 0;
    let stdout = '';
    try {
      execFileSync('node', ['bin/mam.js', 'inspect', file, '--plan'], { encoding: 'utf8' });
    } catch (e) {
      ({ status, stdout } = e as { status: number; stdout: string });
    }
    expect(status).toBe(1);
    expect(stdout).toContain(`${file} cannot be compiled:`);
    expect(stdout).toContain('96 channels are not divisible by 5 heads');
  });
});
