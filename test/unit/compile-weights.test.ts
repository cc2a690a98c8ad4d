// Weight layouts, seeded initialisation, and weights in and out (our checkpoints and PyTorch state dicts).
import * as tf from '#tfjs';
import { beforeAll, describe, expect, it } from 'vitest';
import { CompiledModel } from '../../src/compile/model.ts';
import { planGraph } from '../../src/compile/plan.ts';
import { fromTorch, toTorch } from '../../src/compile/layout.ts';
import { initialValues } from '../../src/compile/init.ts';
import { readSafetensors, writeSafetensors } from '../../src/compile/io/safetensors.ts';
import {
  importStateDict,
  loadWeights,
  saveWeights,
  weightFingerprint,
} from '../../src/compile/weights.ts';
import { swapAll } from '../helpers/swap-all.ts';
import { GraphBuilder } from '../../src/graph/builder.ts';
import { swinUnet } from '../../src/graph/presets.ts';
import type { GraphDoc } from '../../src/graph/types.ts';
import { catalogue } from '../../nodes/index.ts';
import { kernels } from '../../src/compile/kernels/index.ts';

beforeAll(async () => {
  await tf.setBackend('cpu');
});

/** A 2-stage Swin-Unet at 32×32: small enough for the cpu backend. */
function small(mam: 'none' | 'ists' | 'sts', embed = 8): GraphDoc {
  return swinUnet(
    {
      title: 'small',
      description: '',
      imageSize: 32,
      inChannels: 1,
      classNames: ['background', 'a', 'b'],
      embedDim: embed,
      depths: [2, 2],
      heads: [2, 4],
      window: 4,
      patchSize: 2,
      dropPath: 0.1,
      encoder: mam,
      decoder: mam,
      memoryLayout: 'window',
      mergeMode: 'conv',
    },
    catalogue,
  );
}

function compile(doc: GraphDoc, seed = 0) {
  const p = planGraph(doc, catalogue, kernels);
  if (!p.ok) throw new Error(p.errors.map((e) => e.message).join('\n'));
  return CompiledModel.create(p.plan, { seed });
}

describe('layout conversions match the index rules of MAM-SPEC.md section 4', () => {
  it('conv [o,c,i,j] → W_lin[(i·p+j)·Cin+c, o], and back', () => {
    const [O, C, P] = [3, 2, 4];
    const w = Float32Array.from({ length: O * C * P * P }, (_, k) => k + 1);
    const spec = { name: 'proj.weight', shape: [O, C, P, P] };
    const lin = fromTorch(spec, tf.tensor(w, spec.shape));
    const got = lin.arraySync() as number[][];
    for (let o = 0; o < O; o++)
      for (let c = 0; c < C; c++)
        for (let i = 0; i < P; i++)
          for (let j = 0; j < P; j++)
            expect(got[(i * P + j) * C + c][o]).toBe(w[((o * C + c) * P + i) * P + j]);
    expect(Array.from(toTorch(spec, lin).dataSync())).toEqual(Array.from(w));
  });
  it('Linear [out,in] → [in,out]; pos_embed [1,L,C] → [L,C]; tables unchanged', () => {
    const lin = fromTorch(
      { name: 'fc.weight', shape: [2, 3] },
      tf.tensor([
        [1, 2, 3],
        [4, 5, 6],
      ]),
    );
    expect(lin.arraySync()).toEqual([
      [1, 4],
      [2, 5],
      [3, 6],
    ]);
    expect(
      fromTorch(
        { name: 'pos_embed', shape: [1, 2, 2] },
        tf.tensor([
          [
            [1, 2],
            [3, 4],
          ],
        ]),
      ).shape,
    ).toEqual([2, 2]);
    const t = fromTorch(
      { name: 'attn.relative_position_bias_table', shape: [2, 3] },
      tf.tensor([
        [1, 2, 3],
        [4, 5, 6],
      ]),
    );
    expect(t.arraySync()).toEqual([
      [1, 2, 3],
      [4, 5, 6],
    ]);
  });
});

describe('initialisation (MAM-SPEC.md section 5)', () => {
  it('Linear weights ~ N(0, 0.02); convs uniform ±1/√fan_in; LN 1/0; biases 0', () => {
    const w = initialValues(
      { name: 'a.weight', shape: [200, 300], init: 'trunc-normal' },
      'x/a.weight',
      7,
    );
    const mean = w.reduce((a, b) => a + b, 0) / w.length;
    const sd = Math.sqrt(w.reduce((a, b) => a + (b - mean) ** 2, 0) / w.length);
    expect(Math.abs(mean)).toBeLessThan(((3 * 0.02) / Math.sqrt(w.length)) * 3);
    expect(Math.abs(sd - 0.02)).toBeLessThan(0.0005);
    const u = initialValues(
      { name: 'proj.weight', shape: [96, 3, 4, 4], init: 'conv-uniform', fanIn: 48 },
      'k',
      1,
    );
    const bound = 1 / Math.sqrt(48);
    expect(Math.max(...u)).toBeLessThanOrEqual(bound);
    expect(Math.min(...u)).toBeGreaterThanOrEqual(-bound);
    expect(Math.max(...u)).toBeGreaterThan(0.95 * bound);
    expect(initialValues({ name: 'n.weight', shape: [4], init: 'ones' }, 'k', 1)).toEqual(
      new Float32Array([1, 1, 1, 1]),
    );
  });
  it('depends on seed and weight name only: same seed, same weights; a swap keeps them', () => {
    const a = compile(small('none'), 3);
    const b = compile(swapAll(small('none')), 3);
    const c = compile(small('none'), 4);
    const key = 'layers.1.blocks.0/attn.qkv.weight';
    expect(Array.from(a.weights.get(key)!.variable.dataSync())).toEqual(
      Array.from(b.weights.get(key)!.variable.dataSync()),
    );
    expect(Array.from(a.weights.get(key)!.variable.dataSync())).not.toEqual(
      Array.from(c.weights.get(key)!.variable.dataSync()),
    );
    [a, b, c].forEach((m) => m.dispose());
  });
});

describe('weights in and out', () => {
  it('save → load round trip restores every weight; the fingerprint is stored', () => {
    const a = compile(small('ists'), 1);
    const b = compile(small('ists'), 2);
    const bytes = saveWeights(a);
    expect(readSafetensors(bytes).metadata.fingerprint).toBe(weightFingerprint(a));
    expect(loadWeights(b, bytes)).toEqual({ ok: true, loaded: a.weights.size });
    for (const [k, w] of a.weights)
      expect(Array.from(b.weights.get(k)!.variable.dataSync())).toEqual(
        Array.from(w.variable.dataSync()),
      );
    a.dispose();
    b.dispose();
  });

  it('weights for another graph are refused, naming what differs, and nothing changes', () => {
    const a = compile(small('none', 8));
    const b = compile(small('none', 16));
    const before = Array.from(b.weights.get('patch_embed/proj.weight')!.variable.dataSync());
    const r = loadWeights(b, saveWeights(a), 'a.safetensors');
    expect(r.ok).toBe(false);
    if (r.ok) return;
    expect(r.message).toMatch(
      /^a\.safetensors holds weights for another graph \(fingerprint [0-9a-f]{16}, this graph [0-9a-f]{16}\): /,
    );
    expect(r.message).toContain('patch_embed.proj.weight: file 8×1×2×2, graph 16×1×2×2');
    expect(Array.from(b.weights.get('patch_embed/proj.weight')!.variable.dataSync())).toEqual(
      before,
    );
    const sts = compile(small('sts', 16));
    const r2 = loadWeights(sts, saveWeights(b));
    expect(!r2.ok && r2.message).toContain(
      'weights of the graph are not in the file (memory_merging.0.norm.weight',
    );
    [a, b, sts].forEach((m) => m.dispose());
  });

  it('a SAM checkpoint loads into the MAM version of the same graph with nothing missing', () => {
    const sam = compile(small('none'), 5);
    const mam = compile(small('ists'), 6);
    expect(weightFingerprint(sam)).toBe(weightFingerprint(mam));
    expect(loadWeights(mam, saveWeights(sam)).ok).toBe(true);
    sam.dispose();
    mam.dispose();
  });

  it('imports a PyTorch state dict by name: prefixes, buffers, unexpected, wrong shapes, transposes', () => {
    const m = compile(small('none'));
    const tensors: Record<string, { shape: number[]; data: Float32Array }> = {};
    for (const w of m.weights.values()) {
      const n = w.spec.shape.reduce((a, b) => a * b, 1);
      tensors[`module.${w.node}.${w.spec.name}`] = {
        shape: w.spec.shape,
        data: Float32Array.from({ length: n }, (_, i) => i / n),
      };
    }
    tensors['module.layers.0.blocks.0.attn.relative_position_index'] = {
      shape: [16, 16],
      data: new Float32Array(256),
    };
    tensors['module.layers.0.blocks.1.attn_mask'] = {
      shape: [4, 16, 16],
      data: new Float32Array(1024),
    };
    tensors['module.decoder0.weight'] = { shape: [2], data: new Float32Array(2) };
    tensors['module.head.weight'] = { shape: [5, 5], data: new Float32Array(25) };
    tensors['module.norm.weight'] = { shape: [5], data: new Float32Array(5) };
    delete tensors['module.norm_up.bias'];
    const report = importStateDict(m, writeSafetensors(tensors));
    expect(report.skipped.sort()).toEqual([
      'module.decoder0.weight',
      'module.layers.0.blocks.0.attn.relative_position_index',
      'module.layers.0.blocks.1.attn_mask',
    ]);
    expect(report.unexpected).toEqual(['module.head.weight']);
    expect(report.missing).toEqual(['norm_up.bias']);
    expect(report.wrongShape).toEqual([{ key: 'norm.weight', file: [5], graph: [16] }]);
    expect(report.matched.length).toBe(m.weights.size - 2);
    // qkv: PyTorch [3C, C] row-major i/n → ours [C, 3C] transposed.
    const qkv = m.weights
      .get('layers.0.blocks.0/attn.qkv.weight')!
      .variable.arraySync() as number[][];
    const n = 24 * 8;
    expect(qkv[3][17]).toBeCloseTo((17 * 8 + 3) / n, 6);
    m.dispose();
  });

  it('Swin-T ImageNet weights fill the encoder and mirror into decoder stage layers_up.(n−1−i) where shapes agree', () => {
    const m = compile(small('none'));
    const tensors: Record<string, { shape: number[]; data: Float32Array }> = {};
    for (const w of m.weights.values()) {
      if (!w.node.startsWith('layers.')) continue;
      const n = w.spec.shape.reduce((a, b) => a * b, 1);
      tensors[w.node + '.' + w.spec.name] = {
        shape: w.spec.shape,
        data: new Float32Array(n).fill(0.5),
      };
    }
    tensors['head.weight'] = { shape: [1000, 16], data: new Float32Array(16000) };
    const report = importStateDict(m, writeSafetensors(tensors), {
      mirrorEncoder: true,
      stages: 2,
    });
    expect(report.mirrored).toContain('layers_up.1.blocks.0.attn.qkv.weight');
    expect(report.mirrored.every((k) => k.startsWith('layers_up.1.blocks.'))).toBe(true);
    expect(report.mirrored.length).toBe(2 * 13);
    expect(m.weights.get('layers_up.1.blocks.1/mlp.fc2.bias')!.variable.dataSync()[0]).toBe(0.5);
    expect(report.unexpected).toEqual(['head.weight']);
    m.dispose();
  });
});

describe('compiled model', () => {
  it('has exactly the parameters inference counts, and a SAM/MAM pair has the same', () => {
    for (const wiring of ['none', 'ists', 'sts'] as const) {
      const doc = small(wiring);
      const p = planGraph(doc, catalogue, kernels);
      if (!p.ok) throw new Error('plan');
      const m = CompiledModel.create(p.plan);
      expect(m.parameterCount).toBe(p.plan.analysis.params);
      m.dispose();
    }
  });

  it('refuses an input of the wrong shape with a sentence', () => {
    const m = compile(small('none'));
    const x = tf.zeros([1, 16, 16, 1]) as tf.Tensor4D;
    expect(() => m.predict(x)).toThrow(
      'the input is 1×16×16×1 but the graph expects B×32×32×1 (NHWC)',
    );
    x.dispose();
    m.dispose();
  });

  it('a graph with errors does not compile, and says why', () => {
    const b = new GraphBuilder(catalogue);
    b.add('input', 'image-input', { channels: 1, height: 30, width: 30 });
    b.add('embed', 'patch-embed', { patchSize: 4, embedDim: 8 });
    b.link('input', 'embed');
    const p = planGraph(b.doc, catalogue, kernels);
    expect(!p.ok && p.errors[0].message).toContain('image 30×30 is not divisible by patch size 4');
  });
});
