// mam import: a foreign state dict becomes a checkpoint of the graph, with a report; the Swin-T mirror fills the decoder.
import { execFileSync } from 'node:child_process';
import { mkdtempSync, readFileSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import * as tf from '#tfjs';
import { beforeAll, describe, expect, it } from 'vitest';
import { CompiledModel } from '../../src/compile/model.ts';
import { planGraph } from '../../src/compile/plan.ts';
import { writeSafetensors } from '../../src/compile/io/safetensors.ts';
import { loadWeights } from '../../src/compile/weights.ts';
import { saveGraph } from '../../src/graph/save.ts';
import { swinUnet } from '../../src/graph/presets.ts';
import { catalogue } from '../../nodes/index.ts';
import { kernels } from '../../src/compile/kernels/index.ts';

beforeAll(async () => {
  await tf.setBackend('cpu');
});

const doc = swinUnet(
  {
    title: 'small',
    description: '',
    imageSize: 32,
    inChannels: 1,
    classNames: ['background', 'a'],
    embedDim: 8,
    depths: [2, 2],
    heads: [2, 4],
    window: 4,
    patchSize: 2,
    dropPath: 0,
    encoder: 'ists',
    decoder: 'none',
    memoryLayout: 'window',
    mergeMode: 'conv',
  },
  catalogue,
);

function mam(args: string[]) {
  try {
    return {
      code: 0,
      out: execFileSync('node', ['bin/mam.js', ...args], {
        encoding: 'utf8',
        stdio: ['ignore', 'pipe', 'pipe'],
      }),
    };
  } catch (e) {
    const err = e as { status: number; stdout: string; stderr: string };
    return { code: err.status, out: err.stdout + err.stderr };
  }
}

describe('mam import', () => {
  it('Swin-T-style encoder weights, mirrored into the decoder, become a checkpoint that loads', () => {
    const dir = mkdtempSync(join(tmpdir(), 'mam-import-'));
    writeFileSync(join(dir, 'g.json'), saveGraph(doc));
    const plan = planGraph(doc, catalogue, kernels);
    if (!plan.ok) throw new Error('plan');
    const m = CompiledModel.create(plan.plan);
    // An ImageNet-style state dict: only encoder stages (`layers.i.*`), a classifier head, a buffer.
    const tensors: Record<string, { shape: number[]; data: Float32Array }> = {};
    for (const w of m.weights.values()) {
      if (!w.node.startsWith('layers.')) continue;
      const n = w.spec.shape.reduce((a, b) => a * b, 1);
      tensors[`${w.node}.${w.spec.name}`] = {
        shape: w.spec.shape,
        data: new Float32Array(n).fill(0.25),
      };
    }
    tensors['head.weight'] = { shape: [10, 16], data: new Float32Array(160) };
    tensors['layers.0.blocks.0.attn.relative_position_index'] = {
      shape: [16, 16],
      data: new Float32Array(256),
    };
    writeFileSync(join(dir, 'swin-t.safetensors'), writeSafetensors(tensors));

    const r = mam([
      'import',
      join(dir, 'g.json'),
      join(dir, 'swin-t.safetensors'),
      '--out',
      join(dir, 'w.safetensors'),
      '--mirror-encoder',
      '--stages',
      '2',
      '--json',
    ]);
    expect(r.code).toBe(0);
    const report = JSON.parse(r.out);
    expect(report.unexpected).toEqual(['head.weight']);
    expect(report.skipped).toEqual(['layers.0.blocks.0.attn.relative_position_index']);
    expect(report.mirrored).toHaveLength(2 * 13); // two decoder blocks of stage 1, 13 tensors each
    expect(report.missing).toContain('patch_embed.proj.weight');

    const loaded = loadWeights(m, new Uint8Array(readFileSync(join(dir, 'w.safetensors'))));
    expect(loaded.ok).toBe(true);
    expect(m.weights.get('layers_up.1.blocks.0/attn.qkv.weight')!.variable.dataSync()[5]).toBe(
      0.25,
    );
    m.dispose();
  });

  it('nothing matching is refused with exit 3; not safetensors likewise', () => {
    const dir = mkdtempSync(join(tmpdir(), 'mam-import-'));
    writeFileSync(join(dir, 'g.json'), saveGraph(doc));
    writeFileSync(
      join(dir, 'other.safetensors'),
      writeSafetensors({ 'fc.weight': { shape: [2, 2], data: new Float32Array(4) } }),
    );
    const r = mam([
      'import',
      join(dir, 'g.json'),
      join(dir, 'other.safetensors'),
      '--out',
      join(dir, 'w.safetensors'),
    ]);
    expect(r.code).toBe(3);
    expect(r.out).toContain('no tensor matched a weight of');
    writeFileSync(join(dir, 'junk.safetensors'), 'not a tensor file');
    const j = mam([
      'import',
      join(dir, 'g.json'),
      join(dir, 'junk.safetensors'),
      '--out',
      join(dir, 'w.safetensors'),
    ]);
    expect(j.code).toBe(3);
    expect(j.out).toContain('is not a readable safetensors file');
  });
});
