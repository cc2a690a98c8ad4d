/**
 * Training the demo preset (demo-mam, 128×128×1, batch 2, AdamW, with
 * augmentation and drop-path) on wasm keeps tfjs's memory flat: the count of
 * tensors, of buffers and of bytes after step 2 is the count after the last
 * step (the bench, `npm run bench -- peer`, watches the same over 100 steps
 * with the RSS and the wasm heap).
 */
import { readFileSync } from 'node:fs';
import * as path from 'node:path';
import * as tf from '#tfjs';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { initBackend } from '../../src/backend/index.ts';
import { CompiledModel } from '../../src/compile/model.ts';
import { planGraph } from '../../src/compile/plan.ts';
import { kernels } from '../../src/compile/kernels/index.ts';
import { loadDemo } from '../../src/data/demo.ts';
import { demoDataDir, nodeFileSource } from '../../src/data/node-fs.ts';
import { loadGraph } from '../../src/graph/load.ts';
import { train } from '../../src/train/loop.ts';
import { caseSlices } from '../../src/train/samples.ts';
import { catalogue } from '../../nodes/index.ts';
import { repoRoot } from '../helpers/mam-cli.ts';
import { benchSettings } from '../../bench/util.ts';

beforeAll(async () => {
  expect((await initBackend('wasm')).name).toBe('wasm');
});

afterAll(async () => {
  await tf.setBackend('cpu');
});

describe('demo preset training memory', () => {
  it('numTensors, numDataBuffers and numBytes after step 2 equal those after step 8', async () => {
    const g = loadGraph(
      readFileSync(path.join(repoRoot, 'presets', 'demo-mam.json'), 'utf8'),
      catalogue,
    );
    if (!g.ok) throw new Error('demo-mam.json does not load');
    const p = planGraph(g.graph, catalogue, kernels);
    if (!p.ok) throw new Error(p.errors.map((e) => e.message).join('; '));
    const demo = await loadDemo(nodeFileSource(demoDataDir()));
    if (!demo.ok) throw new Error(demo.message);
    const model = CompiledModel.create(p.plan, { seed: 1 });
    const at = new Map<number, tf.MemoryInfo>();
    const steps = 8;
    const r = await train({
      model,
      data: {
        classNames: p.plan.classNames,
        train: caseSlices(demo.value.splits.train, 'auto'),
        val: [],
        fingerprint: 'demo',
      },
      // the settings of `npm run bench -- peer`, with augmentation on as in real training
      settings: benchSettings(2, steps, true),
      onEvent: (e) => {
        if (e.type === 'step') at.set(e.step, tf.memory());
      },
    });
    expect(r.step).toBe(steps);
    const pick = (m: tf.MemoryInfo | undefined) =>
      m && { numTensors: m.numTensors, numDataBuffers: m.numDataBuffers, numBytes: m.numBytes };
    expect(pick(at.get(steps))).toEqual(pick(at.get(2)));
    // the weights and AdamW's two moments at least: what is kept is the model's state
    expect(at.get(steps)!.numBytes).toBeGreaterThanOrEqual(3 * 4 * model.parameterCount);
    model.dispose();
  });
});
