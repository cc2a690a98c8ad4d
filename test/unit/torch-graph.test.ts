/**
 * The torch runtime reads graph files as src/graph does: for every preset the
 * weight fingerprint (stored in our checkpoints and run.json) and the
 * document hash equal ours, the parameter count is MAM-SPEC's / the README's,
 * a graph with unknown node types is refused naming every such id, broken
 * graphs are refused with messages that mean what ours mean, and the
 * initialisation follows MAM-SPEC §5 in distribution.
 */
import { mkdtempSync, readFileSync, readdirSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, beforeAll, expect, it } from 'vitest';
import { hashString } from '../../src/compile/init.ts';
import { weightFingerprint } from '../../src/compile/weights.ts';
import { compileGraphFile } from '../../src/cli/load-model.ts';
import { runPython } from '../helpers/torch-runtime.ts';
import { describeOracle, repoRoot } from './data-oracle.ts';

/** MAM-SPEC.md §3 and the README's preset table. */
const SPEC_PARAMS: Record<string, number> = {
  'swin-unet.json': 41_380_836,
  'swin-unet-lite.json': 27_168_900,
  'swin-unet-mam-sts.json': 42_930_468,
  'swin-unet-mam-sts-encdec.json': 44_480_100,
  'swin-unet-mam-ists.json': 41_380_836,
  'swin-unet-mam-ists-encdec.json': 41_380_836,
  'vit-unet-mam-sts.json': 15_084_000,
  'demo-mam.json': 760_104,
  // DA-TRANSUNET-MAM-SPEC.md §k: what runs, running statistics not counted
  'da-transunet.json': 106_438_039,
  'da-transunet-mam.json': 106_438_039,
  // by hand from the spec's rules (§b, §c.4) for the demo's widths: root 816, units
  // 4,928 + 24,192 + 95,488, patch embedding 32,896, DA heads 44,118 ×2 + 11,100,
  // position table 8,192, 4 ViT blocks 198,272 each, encoder norm 256, conv_more 73,856,
  // CUP blocks 147,712 + 46,208 + 9,280 + 4,672, head 1,160
  'da-transunet-mam-demo.json': 1_342_080,
  // 3D-MAM-SPEC.md §k (SAM = MAM)
  'swinunetr.json': 62_186_855,
  'swinunetr-mam.json': 62_186_855,
  'nnformer.json': 149_265_629,
  'nnformer-mam.json': 149_265_629,
  // MONAI 1.6's SwinUNETR(in_channels=1, out_channels=8, feature_size=12, window_size=4)
  'swinunetr-mam-demo.json': 3_911_282,
  // by §b.2's row rules (stems, blocks 12C² + 17C + (2w−1)³·heads, kv blocks less C² + C,
  // conv merging, expanding, head), which give §k's 149,265,629 at full size; at 64³ the
  // last two stages' windows clamp to 4 and 2
  'nnformer-mam-demo.json': 2_369_740,
};

const presets = readdirSync(join(repoRoot, 'presets')).filter((f) => f.endsWith('.json'));

describeOracle('torch runtime: graph files', () => {
  let dir = '';
  beforeAll(() => {
    dir = mkdtempSync(join(tmpdir(), 'mam-torch-graph-'));
  });
  afterAll(() => rmSync(dir, { recursive: true, force: true }));

  const check = (file: string) => runPython(['-m', 'mam_torch.check', file]);
  const write = (name: string, doc: unknown) => {
    const f = join(dir, name);
    writeFileSync(f, JSON.stringify(doc));
    return f;
  };
  const demo = () => JSON.parse(readFileSync(join(repoRoot, 'presets', 'demo-mam.json'), 'utf8'));

  it.each(presets)('%s: fingerprint, document hash and parameter count agree', async (file) => {
    const path = join(repoRoot, 'presets', file);
    const r = await check(path);
    expect(r.stderr).toBe('');
    const summary = JSON.parse(r.stdout);
    const { model, graph } = await compileGraphFile(path, 0);
    try {
      expect(summary.weightsFingerprint).toBe(weightFingerprint(model));
      expect(summary.documentHash).toBe(
        hashString(JSON.stringify(graph)).toString(16).padStart(8, '0'),
      );
    } finally {
      model.dispose();
    }
    expect(summary.params).toBe(SPEC_PARAMS[file]);
  });

  it('refuses unknown node types, naming every id, and exits 1', async () => {
    const doc = demo();
    doc.nodes.find((n: { id: string }) => n.id === 'layers.0.blocks.1').type = 'fancy-block';
    doc.nodes.find((n: { id: string }) => n.id === 'norm_up').type = 'other-norm';
    const r = await check(write('unknown.json', doc));
    expect(r.code).toBe(1);
    expect(r.stderr).toMatch(/node 'layers\.0\.blocks\.1' has unknown node type 'fancy-block'/);
    expect(r.stderr).toMatch(/node 'norm_up' has unknown node type 'other-norm'/);
    expect(r.stdout).toBe('');
  });

  it('refuses what src/graph refuses: newer version, bad parameter, a link to a missing port, an open input', async () => {
    const newer = { ...demo(), version: 2 };
    expect((await check(write('v2.json', newer))).stderr).toMatch(
      /\$\.version: this file was written in graph format version 2, newer than/,
    );
    const badParam = demo();
    badParam.nodes.find((n: { id: string }) => n.id === 'layers.0.blocks.0').params.heads = 0;
    expect((await check(write('param.json', badParam))).stderr).toMatch(
      /node 'layers\.0\.blocks\.0' \(Memory-attention unit \(window\)\): parameter 'heads' is 0, below the minimum 1/,
    );
    const badPort = demo();
    badPort.links[0].to.port = 'nowhere';
    expect((await check(write('port.json', badPort))).stderr).toMatch(
      /has no input port 'nowhere'/,
    );
    const open = demo();
    open.links = open.links.filter((l: { to: { node: string } }) => l.to.node !== 'segmentation');
    const r = await check(write('open.json', open));
    expect(r.code).toBe(1);
    expect(r.stderr).toMatch(
      /node 'segmentation' \(Segmentation output\): required input 'logits' is not connected/,
    );
  });

  it('initialises per MAM-SPEC §5 in distribution (std 0.02 normal, uniform ±1/√fan_in, LN 1/0, biases 0)', async () => {
    const r = await runPython([
      '-c',
      `
import json, math, torch
from mam_torch import GraphModule, load_graph
g = load_graph("presets/swin-unet-mam-sts.json")
m = dict(GraphModule(g, seed=5).named_parameters())
out = {}
for key, w in g.weight_specs():
    p = m[key].detach().double().flatten()
    out.setdefault(w.init, []).append([key, p.numel(), p.mean().item(), p.std().item() if p.numel() > 1 else 0, p.abs().max().item(), w.fan_in or 0])
print(json.dumps(out))
`,
    ]);
    expect(r.stderr).toBe('');
    const byInit = JSON.parse(r.stdout) as Record<
      string,
      [string, number, number, number, number, number][]
    >;
    // trunc-normal: pooled over every such weight, std 0.02 within sampling error, mean 0
    let n = 0;
    let sumSq = 0;
    for (const [, count, mean, std] of byInit['trunc-normal']) {
      n += count;
      sumSq += count * (std * std + mean * mean);
    }
    expect(Math.abs(Math.sqrt(sumSq / n) - 0.02)).toBeLessThan(0.0002);
    for (const [key, count, mean, std, max, fanIn] of byInit['conv-uniform']) {
      const bound = 1 / Math.sqrt(fanIn);
      expect(max, key).toBeLessThanOrEqual(bound);
      if (count >= 10_000) {
        expect(Math.abs(std - bound / Math.sqrt(3)) / (bound / Math.sqrt(3)), key).toBeLessThan(
          0.02,
        );
        expect(Math.abs(mean), key).toBeLessThan(0.02 * bound);
      }
    }
    for (const [key, , mean, std] of byInit.ones) expect([key, mean, std]).toEqual([key, 1, 0]);
    for (const [key, , mean, std] of byInit.zeros) expect([key, mean, std]).toEqual([key, 0, 0]);
  });
});
