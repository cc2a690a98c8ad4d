/**
 * `npm run bench -- demo-learning --preset <3D preset>` (bench/demo-learning-volume.ts):
 * `--minutes` and `--cpu-minutes` are checked after every step, not only where
 * the run evaluates; the run stops after the first step past either and
 * evaluates the test volume once there. A tiny 3D graph (32³) on data/demo3d.
 */
import * as tf from '#tfjs';
import { beforeAll, describe, expect, it } from 'vitest';
import { runVolume } from '../../bench/demo-learning-volume.ts';
import { budgetSpent } from '../../bench/training-budget.ts';
import { catalogue } from '../../nodes/index.ts';
import { initBackend } from '../../src/backend/index.ts';
import type { BackendInfo } from '../../src/backend/types.ts';
import { planGraph } from '../../src/compile/plan.ts';
import { DEMO_CLASSES } from '../../src/graph/classes.ts';
import { kernels3d, tiny3dGraph } from '../helpers/tiny-3d.ts';

let backend: BackendInfo;
beforeAll(async () => {
  backend = await initBackend('wasm');
});

const tinyRun = (...args: string[]) => {
  const graph = tiny3dGraph({ size: [32, 32, 32], classes: DEMO_CLASSES });
  const plan = planGraph(graph, catalogue, kernels3d);
  if (!plan.ok) throw new Error('tiny 3D graph does not compile');
  return runVolume(args, { preset: 'tiny3d', graph, plan: plan.plan, backend, write: false });
};

describe('demo-learning on volumes: the time budgets', () => {
  it('a budget is spent once training time passes it', () => {
    const budget = { minutes: 2, cpuMinutes: 1 };
    expect(budgetSpent(budget, 120, 60)).toBeNull(); // at the limits, not past them
    expect(budgetSpent(budget, 120.5, 0)).toBe('minutes');
    expect(budgetSpent(budget, 0, 60.5)).toBe('cpu-minutes');
    expect(budgetSpent({ minutes: 1, cpuMinutes: Infinity }, 0, 1e9)).toBeNull();
  });

  it('--cpu-minutes 0 stops after step 1 of 4, between evaluation points, and evaluates once there', async () => {
    const before = tf.memory().numTensors;
    const r = await tinyRun('--steps', '4', '--every', '100', '--cpu-minutes', '0');
    expect(r.stopped).toEqual({ step: 1, budget: 'cpu-minutes' });
    expect(r.steps.map((s) => s.step)).toEqual([1]);
    expect(r.points.map((p) => p.step)).toEqual([1]);
    expect(r.points[0].synapse).toBeGreaterThanOrEqual(0);
    expect(tf.memory().numTensors).toBe(before);
  });

  it('--minutes 0 stops after step 1, which is an evaluation point: evaluated once, not twice', async () => {
    const r = await tinyRun('--steps', '4', '--every', '1', '--minutes', '0');
    expect(r.stopped).toEqual({ step: 1, budget: 'minutes' });
    expect(r.steps.map((s) => s.step)).toEqual([1]);
    expect(r.points.map((p) => p.step)).toEqual([1]);
  });
});
