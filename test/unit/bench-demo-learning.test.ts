/**
 * `npm run bench -- demo-learning` on a 2D graph (bench/demo-learning.ts):
 * `--minutes` and `--cpu-minutes` are checked after every step, not only where
 * the run evaluates; the run stops after the first step past either and
 * evaluates the test split once there (the budget logic is the volume
 * bench's, bench/training-budget.ts). A tiny 2D graph (16×16) on the demo data.
 */
import * as tf from '#tfjs';
import { beforeAll, describe, expect, it } from 'vitest';
import { runSlices } from '../../bench/demo-learning.ts';
import { catalogue } from '../../nodes/index.ts';
import { initBackend } from '../../src/backend/index.ts';
import type { BackendInfo } from '../../src/backend/types.ts';
import { kernels } from '../../src/compile/kernels/index.ts';
import { planGraph } from '../../src/compile/plan.ts';
import { DEMO_CLASSES } from '../../src/graph/classes.ts';
import { tinyGraph } from '../helpers/tiny-graph.ts';

let backend: BackendInfo;
beforeAll(async () => {
  backend = await initBackend('wasm');
});

const tinyRun = (...args: string[]) => {
  const graph = tinyGraph({ size: 16, classes: DEMO_CLASSES });
  const plan = planGraph(graph, catalogue, kernels);
  if (!plan.ok) throw new Error('tiny 2D graph does not compile');
  return runSlices(args, { preset: 'tiny', graph, plan: plan.plan, backend, write: false });
};

describe('demo-learning on slices: the time budgets', () => {
  it('--cpu-minutes 0 stops after step 1, between evaluation points, and evaluates once there', async () => {
    const before = tf.memory().numTensors;
    const r = await tinyRun('--every', '100', '--cpu-minutes', '0');
    expect(r.stopped).toEqual({ step: 1, budget: 'cpu-minutes' });
    expect(r.points.map((p) => p.step)).toEqual([1]);
    expect(r.points[0].synapse).toBeGreaterThanOrEqual(0);
    expect(r.points[0].synapse).toBeLessThanOrEqual(1);
    expect(tf.memory().numTensors).toBe(before);
  });

  it('--minutes 0 stops after step 1, which is an evaluation point: evaluated once, not twice', async () => {
    const r = await tinyRun('--every', '1', '--minutes', '0');
    expect(r.stopped).toEqual({ step: 1, budget: 'minutes' });
    expect(r.points.map((p) => p.step)).toEqual([1]);
  });
});
