/**
 * The session's weights policy: our checkpoints must fit exactly, a PyTorch
 * state dict imports by module path after the key-prefix rule, a partial one
 * is refused unless allowed, and a refused file changes no weight. Failures
 * are SessionErrors with code 3, told apart by `instanceof` and code.
 */
import { beforeAll, describe, expect, it } from 'vitest';
import { writeSafetensors } from '../../src/compile/io/safetensors.ts';
import { CompiledModel } from '../../src/compile/model.ts';
import { planGraph } from '../../src/compile/plan.ts';
import { saveWeights } from '../../src/compile/weights.ts';
import { initBackend } from '../../src/backend/index.ts';
import { EXIT_CODES, SessionError } from '../../src/session/errors.ts';
import { applyWeightsFile } from '../../src/session/weights.ts';
import { catalogue } from '../../nodes/index.ts';
import { kernels } from '../../src/compile/kernels/index.ts';
import { tinyGraph } from '../helpers/tiny-graph.ts';

beforeAll(async () => {
  await initBackend('cpu');
});

function tinyModel(seed: number): CompiledModel {
  const plan = planGraph(tinyGraph(), catalogue, kernels);
  if (!plan.ok) throw new Error('tiny graph does not compile');
  return CompiledModel.create(plan.plan, { seed });
}

/** Every weight's values by key, as plain arrays. */
const values = (m: CompiledModel) =>
  new Map([...m.weights].map(([k, w]) => [k, Array.from(w.variable.dataSync())]));

/** A state dict of the tiny graph in PyTorch layout (the seg head's output.weight left out when `partial`), every value `fill`. */
function stateDict(m: CompiledModel, prefix: string, fill: number, partial = false) {
  const tensors: Record<string, { shape: number[]; data: Float32Array }> = {};
  for (const w of m.weights.values()) {
    if (partial && w.node === 'output' && w.spec.name === 'weight') continue;
    const size = w.spec.shape.reduce((a, b) => a * b, 1);
    tensors[`${prefix}${w.node}.${w.spec.name}`] = {
      shape: w.spec.shape,
      data: new Float32Array(size).fill(fill),
    };
  }
  return writeSafetensors(tensors);
}

function refusal(f: () => unknown): SessionError {
  try {
    f();
  } catch (e) {
    expect(e).toBeInstanceOf(SessionError);
    return e as SessionError;
  }
  throw new Error('not refused');
}

describe('weights policy', () => {
  it('our checkpoint of the same graph loads every weight exactly', () => {
    const a = tinyModel(1);
    const b = tinyModel(2);
    const o = applyWeightsFile(b, saveWeights(a), 'a.safetensors');
    expect(o).toMatchObject({ kind: 'checkpoint', loaded: a.weights.size });
    expect(values(b)).toEqual(values(a));
    a.dispose();
    b.dispose();
  });

  it.each(['module.', 'swin_unet.', ''])(
    'a state dict with the key prefix "%s" fills every weight',
    (prefix) => {
      const m = tinyModel(1);
      const reports: string[] = [];
      const o = applyWeightsFile(m, stateDict(m, prefix, 0.25), 'sd.safetensors', {
        onReport: (t) => reports.push(t),
      });
      expect(o.kind).toBe('state dict');
      expect(o.loaded).toBe(m.weights.size);
      expect(reports[0]).toMatch(new RegExp(`^matched ${m.weights.size}, .*missing 0`));
      // A constant survives any layout conversion: every value is 0.25.
      for (const v of values(m).values()) expect(new Set(v)).toEqual(new Set([0.25]));
      m.dispose();
    },
  );

  it('a partial state dict is refused (code 3, nothing changed) unless partial imports are allowed', () => {
    const m = tinyModel(1);
    const before = values(m);
    const bytes = stateDict(m, 'module.', 0.5, true);
    const e = refusal(() =>
      applyWeightsFile(m, bytes, 'part.safetensors', { partialAdvice: 'allow it to go on' }),
    );
    expect(e.code).toBe(EXIT_CODES.badWeights);
    expect(e.message).toBe(
      `part.safetensors fills ${m.weights.size - 1} of ${m.weights.size} weights of the graph (1 missing, 0 of another shape); allow it to go on`,
    );
    expect(values(m)).toEqual(before);
    const o = applyWeightsFile(m, bytes, 'part.safetensors', { allowPartial: true });
    expect(o.kind === 'state dict' && o.report.missing).toEqual(['output.weight']);
    const after = values(m);
    expect(after.get('output/weight')).toEqual(before.get('output/weight'));
    expect(new Set(after.get('patch_embed/proj.weight'))).toEqual(new Set([0.5]));
    m.dispose();
  });

  it('not safetensors, nothing matching, another graph’s checkpoint: each code 3, nothing changed', () => {
    const m = tinyModel(1);
    const before = values(m);
    const junk = refusal(() => applyWeightsFile(m, new TextEncoder().encode('{"x":1}'), 'j.bin'));
    expect(junk.code).toBe(EXIT_CODES.badWeights);
    expect(junk.message).toMatch(/^j\.bin is not a readable safetensors file/);
    const other = writeSafetensors({ 'fc.weight': { shape: [2, 2], data: new Float32Array(4) } });
    const none = refusal(() =>
      applyWeightsFile(m, other, 'fc.safetensors', { allowPartial: true }),
    );
    expect(none.message).toBe('fc.safetensors: no tensor matched a weight of this graph');
    const plan = planGraph(tinyGraph({ classes: ['a', 'b'] }), catalogue, kernels);
    if (!plan.ok) throw new Error('two-class graph does not compile');
    const two = CompiledModel.create(plan.plan, { seed: 0 });
    const wrong = refusal(() => applyWeightsFile(m, saveWeights(two), 'two.safetensors'));
    expect(wrong.code).toBe(EXIT_CODES.badWeights);
    expect(wrong.message).toMatch(/^two\.safetensors holds weights for another graph/);
    expect(values(m)).toEqual(before);
    two.dispose();
    m.dispose();
  });
});
