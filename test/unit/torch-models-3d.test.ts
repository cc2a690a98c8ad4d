/**
 * The torch runtime's 3D node kinds (SwinUNETR, nnFormer; 3D-MAM-SPEC.md):
 * - it builds the four FLARE presets from their graph files, with the
 *   parameter counts of §k and the weight fingerprint of src/graph's
 *   inference; SAM and MAM share their weights; unknown kinds are refused by id;
 * - SwinUNETR(-MAM) equals MONAI's `SwinUNETR` (PyPI; merge order set to the
 *   reference's, memory added on MONAI's own windows), weights imported by
 *   name with a report, in float64 at 64³, feature size 12;
 * - nnFormer(-MAM) equals a whole-model oracle written from the spec
 *   (test/python/nnformer_oracle.py) in float64 at 64³;
 * - a SAM checkpoint loads into the MAM module, and the memory path matters;
 * - the initialisation follows MAM-SPEC §5 in distribution.
 */
import { mkdtempSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, beforeAll, expect, it } from 'vitest';
import { catalogue } from '../../nodes/index.ts';
import { hashString } from '../../src/compile/init.ts';
import { analyzeGraph } from '../../src/graph/infer.ts';
import { loadGraph } from '../../src/graph/load.ts';
import {
  TEST_CLASSES,
  smallNnformer as smallNnformer3d,
  smallSwinUnetr as smallSwinUnetr3d,
} from '../helpers/torch-3d-graphs.ts';
import { runPython } from '../helpers/torch-runtime.ts';
import { describeOracle, repoRoot } from './data-oracle.ts';

/** 3D-MAM-SPEC.md §k (and §e.1): SAM = MAM. */
const SPEC_K: Record<string, number> = {
  swinunetr: 62_186_855,
  'swinunetr-mam': 62_186_855,
  nnformer: 149_265_629,
  'nnformer-mam': 149_265_629,
};
const PRESETS_3D = Object.keys(SPEC_K).map((n) => `${n}.json`);

/** weightFingerprint of src/compile/weights.ts, from src/graph's inference (no kernels needed). */
function graphFingerprint(text: string): string {
  const r = loadGraph(text, catalogue);
  if (!r.ok) throw new Error(r.issues.map((i) => i.message).join('\n'));
  const a = analyzeGraph(r.graph, catalogue);
  const lines = [...a.nodes]
    .flatMap(([id, n]) => n.weights.map((w) => `${id}.${w.name}:${w.shape.join('×')}`))
    .sort()
    .join('\n');
  const hex = (seed?: number) => hashString(lines, seed).toString(16).padStart(8, '0');
  return hex() + hex(0x9e3779b9);
}

const CLASSES = TEST_CLASSES;
const smallSwinUnetr = (memory: boolean) => smallSwinUnetr3d(64, 12, memory);
const smallNnformer = (memory: boolean) => smallNnformer3d(64, 16, 2, memory);

describeOracle('torch runtime: 3D node kinds', () => {
  let dir = '';
  const write = (name: string, doc: unknown) => {
    const f = join(dir, name);
    writeFileSync(f, JSON.stringify(doc));
    return f;
  };
  const json = async (args: string[]) => {
    const r = await runPython(args);
    expect(r.stderr + r.code).toMatch(/0$/);
    return JSON.parse(r.stdout.trim().split('\n').pop()!);
  };
  beforeAll(() => {
    dir = mkdtempSync(join(tmpdir(), 'mam-torch-3d-'));
  });
  afterAll(() => rmSync(dir, { recursive: true, force: true }));

  it('builds the four FLARE presets: §k parameter counts, our weight fingerprint, SAM = MAM weights', async () => {
    const out = await json([
      '-c',
      `
import json, sys, torch
from mam_torch import GraphModule, load_graph, weight_fingerprint
res = {}
for f in sys.argv[1:]:
    g = load_graph(f)
    with torch.device("meta"):  # names and shapes only: GraphModule checks them against the graph
        m = GraphModule(g, seed=None)
    res[f] = {"params": sum(p.numel() for p in m.parameters()), "fingerprint": weight_fingerprint(g),
              "keys": len(m.state_dict()), "input": g.input_shape}
print(json.dumps(res))
`,
      ...PRESETS_3D.map((f) => join(repoRoot, 'presets', f)),
    ]);
    for (const f of PRESETS_3D) {
      const path = join(repoRoot, 'presets', f);
      const got = out[path];
      expect(got.params, f).toBe(SPEC_K[f.replace('.json', '')]);
      expect(got.fingerprint, f).toBe(graphFingerprint(readFileSync(path, 'utf8')));
      expect(got.input, f).toEqual([1, 96, 96, 96]);
      // §d: 159 keys (SwinUNETR) and 246 (nnFormer) less the 8 / 14 index buffers we recompute
      expect(got.keys, f).toBe(f.startsWith('swinunetr') ? 151 : 232);
    }
    expect(out[join(repoRoot, 'presets', 'swinunetr.json')].fingerprint).toBe(
      out[join(repoRoot, 'presets', 'swinunetr-mam.json')].fingerprint,
    );
  });

  it('refuses a 3D graph with unknown node types, naming every id, and volumes into 2D-only modules', async () => {
    const doc = JSON.parse(readFileSync(join(repoRoot, 'presets', 'nnformer-mam.json'), 'utf8'));
    doc.nodes.find((n: { id: string }) => n.id === 'final.0').type = 'fancy-head';
    doc.nodes.find((n: { id: string }) => n.id === 'model_down.layers.1.blocks.1').type = 'x3d';
    const r = await runPython(['-m', 'mam_torch.check', write('unknown3d.json', doc)]);
    expect(r.code).toBe(1);
    expect(r.stderr).toMatch(/node 'final\.0' has unknown node type 'fancy-head'/);
    expect(r.stderr).toMatch(/node 'model_down\.layers\.1\.blocks\.1' has unknown node type 'x3d'/);
    // a 2D kind whose torch module is 2D, reached by a volume: refused, naming the node
    const flat = JSON.parse(readFileSync(join(repoRoot, 'presets', 'demo-mam.json'), 'utf8'));
    flat.nodes.find((n: { type: string }) => n.type === 'image-input').params.depth = 16;
    const v = await runPython(['-m', 'mam_torch.check', write('volume-into-2d.json', flat)]);
    expect(v.code).toBe(1);
    expect(v.stderr).toMatch(
      /node 'patch_embed' \(Patch embed\): its torch module takes 2D images and token grids only; a volume reaches it/,
    );
  });

  it('SwinUNETR(-MAM) equals MONAI SwinUNETR (reference merge order; memory on its windows) in float64 at 64³, feature 12', async () => {
    const r = await json([
      join(repoRoot, 'test', 'python', 'swinunetr_monai_oracle.py'),
      write('swinunetr.json', smallSwinUnetr(false)),
      write('swinunetr-mam.json', smallSwinUnetr(true)),
      '64',
      '12',
      String(CLASSES.length),
    ]);
    console.info(
      `torch-3d: SwinUNETR vs MONAI ${r.sam.toExponential(2)}, MAM ${r.mam.toExponential(2)}; memory moves the logits by ${r.memory.toFixed(4)} (MONAI+memory ${r.referenceMemory.toFixed(4)})`,
    );
    expect(r.sam).toBeLessThanOrEqual(1e-10);
    expect(r.mam).toBeLessThanOrEqual(1e-10);
    expect(r.memory).toBeGreaterThan(1e-3);
    expect(r.referenceMemory).toBeGreaterThan(1e-3);
    // MONAI's state dict by name: 151 tensors, the 8 index buffers skipped (equal to ours)
    expect(r.report.matched).toBe(151);
    expect([r.report.missing, r.report.wrongShape, r.report.unexpected]).toEqual([[], [], []]);
    expect(r.report.indexMismatch).toEqual([]);
    expect(r.report.skipped).toHaveLength(8);
    for (const [key, why] of r.report.skipped) {
      expect(key).toMatch(/^swinViT\.layers[1-4]\.0\.blocks\.[01]\.attn\.relative_position_index$/);
      expect(why).toMatch(/recomputes it \(equal\)/);
    }
    expect(r.samIntoMam).toBe(151);
  }, 600_000); // four float64 forwards at 64³ (~50 s of CPU; minutes on a loaded machine)

  it("SwinUNETR(-MAM) with merge order 'all-eight' equals the installed MONAI's SwinUNETR as it ships (≥ 1.5: default PatchMerging) in float64 at 64³", async () => {
    const r = await json([
      join(repoRoot, 'test', 'python', 'swinunetr_monai_oracle.py'),
      write('swinunetr-all-eight.json', smallSwinUnetr3d(64, 12, false, 'all-eight')),
      write('swinunetr-mam-all-eight.json', smallSwinUnetr3d(64, 12, true, 'all-eight')),
      '64',
      '12',
      String(CLASSES.length),
      'default',
    ]);
    console.info(
      `torch-3d: SwinUNETR all-eight vs MONAI default ${r.sam.toExponential(2)}, MAM ${r.mam.toExponential(2)}`,
    );
    expect(r.sam).toBeLessThanOrEqual(1e-10);
    expect(r.mam).toBeLessThanOrEqual(1e-10);
    expect(r.report.matched).toBe(151);
  }, 600_000);

  it('nnFormer(-MAM) equals a whole-model oracle written from the spec in float64 at 64³', async () => {
    const r = await json([
      join(repoRoot, 'test', 'python', 'nnformer_oracle.py'),
      write('nnformer.json', smallNnformer(false)),
      write('nnformer-mam.json', smallNnformer(true)),
      '64',
    ]);
    console.info(
      `torch-3d: nnFormer vs oracle ${r.sam.toExponential(2)}, MAM ${r.mam.toExponential(2)}; memory moves the logits by ${r.memory.toFixed(4)}`,
    );
    expect(r.sam).toBeLessThanOrEqual(1e-10);
    expect(r.mam).toBeLessThanOrEqual(1e-10);
    expect(r.memory).toBeGreaterThan(1e-2);
    expect(r.oracleMemory).toBeGreaterThan(1e-2);
    expect(r.samIntoMam).toBe(232);
    // the reference state dict's 14 index buffers (§c.4, non-injective rule) equal ours
    expect([r.indexSkipped, r.indexMismatch]).toEqual([14, []]);
  });

  it('initialises the 3D kinds per MAM-SPEC §5 in distribution', async () => {
    const byInit = (await json([
      '-c',
      `
import json, sys
from mam_torch import GraphModule, load_graph
out = {}
for f in sys.argv[1:]:
    g = load_graph(f)
    m = dict(GraphModule(g, seed=5).named_parameters())
    for key, w in g.weight_specs():
        p = m[key].detach().double().flatten()
        out.setdefault(w.init, []).append([key, p.numel(), p.mean().item(), p.std().item() if p.numel() > 1 else 0, p.abs().max().item(), w.fan_in or 0])
print(json.dumps(out))
`,
      write('init-swinunetr.json', smallSwinUnetr(true)),
      write('init-nnformer.json', smallNnformer(true)),
    ])) as Record<string, [string, number, number, number, number, number][]>;
    let n = 0;
    let sumSq = 0;
    for (const [key, count, mean, std, max] of byInit['trunc-normal']) {
      n += count;
      sumSq += count * (std * std + mean * mean);
      expect(max, key).toBeLessThanOrEqual(2);
    }
    expect(Math.abs(Math.sqrt(sumSq / n) - 0.02)).toBeLessThan(0.0004);
    // relative-position tables are trunc-normal too (§d: std 0.02)
    expect(byInit['trunc-normal'].some(([k]) => k.endsWith('relative_position_bias_table'))).toBe(
      true,
    );
    let big = 0;
    for (const [key, count, mean, std, max, fanIn] of byInit['conv-uniform']) {
      const bound = 1 / Math.sqrt(fanIn);
      expect(max, key).toBeLessThanOrEqual(bound);
      if (count >= 10_000) {
        big++;
        const sd = bound / Math.sqrt(3);
        expect(Math.abs(std - sd) / sd, key).toBeLessThan(0.03);
        expect(Math.abs(mean), key).toBeLessThan(0.03 * bound);
      }
    }
    expect(big).toBeGreaterThan(5);
    for (const [key, , mean, std] of byInit.ones) expect([key, mean, std]).toEqual([key, 1, 0]);
    for (const [key, , mean, std] of byInit.zeros) expect([key, mean, std]).toEqual([key, 0, 0]);
  });
});
