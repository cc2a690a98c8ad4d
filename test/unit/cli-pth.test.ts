// scripts/pth-to-safetensors.py: a PyTorch .pth checkpoint becomes a state dict that imports by name.
import { execFileSync } from 'node:child_process';
import { mkdtempSync, readFileSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import * as tf from '#tfjs';
import { beforeAll, expect, it } from 'vitest';
import { CompiledModel } from '../../src/compile/model.ts';
import { planGraph } from '../../src/compile/plan.ts';
import { importStateDict, saveWeights } from '../../src/compile/weights.ts';
import { presets } from '../../src/graph/presets.ts';
import { describeOracle, venvPython as PY } from './data-oracle.ts';
import { catalogue } from '../../nodes/index.ts';
import { kernels } from '../../src/compile/kernels/index.ts';

beforeAll(async () => {
  await tf.setBackend('cpu');
});

describeOracle('pth → safetensors (needs .venv)', () => {
  it('a checkpoint {model: state_dict} with a module. prefix imports with nothing missing', () => {
    const plan = planGraph(presets(catalogue)['demo-mam'], catalogue, kernels);
    if (!plan.ok) throw new Error('plan');
    const a = CompiledModel.create(plan.plan, { seed: 11 });
    const b = CompiledModel.create(plan.plan, { seed: 12 });
    const dir = mkdtempSync(join(tmpdir(), 'mam-pth-'));
    writeFileSync(join(dir, 'a.safetensors'), saveWeights(a));
    // Python writes a .pth the way training scripts do: prefixed keys under 'model', plus non-tensor entries.
    execFileSync(PY, [
      '-c',
      `import torch; from safetensors.torch import load_file
sd = load_file('${dir}/a.safetensors')
torch.save({'model': {'module.' + k: v.double() for k, v in sd.items()}, 'epoch': 149, 'optimizer': 'x'}, '${dir}/a.pth')`,
    ]);
    const out = execFileSync(
      PY,
      ['scripts/pth-to-safetensors.py', join(dir, 'a.pth'), join(dir, 'b.safetensors')],
      { encoding: 'utf8' },
    );
    expect(out).toContain(`${a.weights.size} tensors`);
    const report = importStateDict(b, new Uint8Array(readFileSync(join(dir, 'b.safetensors'))));
    expect(report.missing).toEqual([]);
    expect(report.unexpected).toEqual([]);
    expect(report.wrongShape).toEqual([]);
    expect(report.matched.length).toBe(a.weights.size);
    for (const [k, w] of a.weights) {
      expect(Array.from(b.weights.get(k)!.variable.dataSync()), k).toEqual(
        Array.from(w.variable.dataSync()),
      );
    }
    a.dispose();
    b.dispose();
  });
});
