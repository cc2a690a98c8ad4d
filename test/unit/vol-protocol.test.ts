/**
 * A 3D graph's protocol beyond the 2D one (3D-MAM-SPEC.md §f), resolved with
 * its reasons: crops of the graph's input, samples per volume, sliding
 * windows at validation (overlap 0.25, 2 per pass) and test (0.5, 4), against
 * the spec's values and window starts worked out by hand; and the resolved
 * windows as the sliding-window inference runs them (calls and batch sizes
 * counted). `mam inspect` shows the same.
 */
import * as tf from '#tfjs';
import { readFileSync } from 'node:fs';
import * as path from 'node:path';
import { describe, expect, it } from 'vitest';
import { catalogue } from '../../nodes/index.ts';
import { loadGraph } from '../../src/graph/load.ts';
import type { TrainingSettings } from '../../src/graph/types.ts';
import {
  resolveTestWindow,
  resolveVolumeProtocol,
  resolveVolumeRun,
} from '../../src/session/settings.ts';
import { slidingWindowInference, windowStarts } from '../../src/train/sliding-window.ts';
import { mamInProcess } from '../helpers/mam-cli.ts';
import { repoRoot } from './data-oracle.ts';

const presetFile = (name: string) => path.join(repoRoot, 'presets', `${name}.json`);
function training(name: string): TrainingSettings | undefined {
  const r = loadGraph(readFileSync(presetFile(name), 'utf8'), catalogue);
  if (!r.ok) throw new Error(r.issues.map((i) => i.message).join('; '));
  return r.graph.metadata?.training;
}

describe('window starts, by hand', () => {
  it('a 120-voxel side, roi 96: step 72 at overlap 0.25 and 48 at 0.5, both [0, 24] after the clamp', () => {
    expect(windowStarts(120, 96, 0.25)).toEqual([0, 24]);
    expect(windowStarts(120, 96, 0.5)).toEqual([0, 24]);
  });
  it('a 200-voxel side, roi 96: [0, 72, 104] at 0.25; [0, 48, 96, 104] at 0.5', () => {
    expect(windowStarts(200, 96, 0.25)).toEqual([0, 72, 104]);
    expect(windowStarts(200, 96, 0.5)).toEqual([0, 48, 96, 104]);
  });
});

describe("the resolver's 3D protocol", () => {
  it('the FLARE presets: 96³ crops (the input), 2 per volume, validation 0.25 × 2, test 0.5 × 4, from their metadata', () => {
    for (const name of ['swinunetr', 'swinunetr-mam', 'nnformer', 'nnformer-mam']) {
      const p = resolveVolumeProtocol(training(name), {}, [96, 96, 96]);
      expect(p.cropSize.value).toEqual([96, 96, 96]);
      expect(p.samplesPerVolume).toMatchObject({ value: 2, from: 'graph metadata' });
      expect(p.validation).toEqual({
        value: { overlap: 0.25, batchSize: 2 },
        from: 'graph metadata',
      });
      expect(p.test).toEqual({ value: { overlap: 0.5, batchSize: 4 }, from: 'graph metadata' });
      const run = resolveVolumeRun(training(name), {}, 10, [96, 96, 96]);
      expect(run.effectiveBatch).toBe(2);
      expect(run.settings.batchSize).toBe(2);
      expect(run.settings.validationWindow).toEqual({ overlap: 0.25, batchSize: 2 });
      expect(run.settings.testWindow).toEqual({ overlap: 0.5, batchSize: 4 });
    }
  });

  it('--batch wins as crops per volume; a graph that says nothing gets the reference windows by default', () => {
    const p = resolveVolumeProtocol(training('nnformer'), { batchSize: 3 }, [96, 96, 96]);
    expect(p.samplesPerVolume).toMatchObject({ value: 3, from: 'override' });
    const bare = resolveVolumeProtocol(undefined, {}, [32, 32, 48]);
    expect(bare.cropSize.value).toEqual([32, 32, 48]);
    expect(bare.validation).toMatchObject({
      value: { overlap: 0.25, batchSize: 2 },
      from: 'default',
    });
    expect(bare.test).toMatchObject({ value: { overlap: 0.5, batchSize: 4 }, from: 'default' });
    // a graph's own windows win
    const own = resolveVolumeProtocol(
      { slidingWindow: { validation: { overlap: 0.7, batchSize: 1 } }, samplesPerVolume: 4 },
      {},
      [64, 64, 64],
    );
    expect(own.validation).toEqual({
      value: { overlap: 0.7, batchSize: 1 },
      from: 'graph metadata',
    });
    expect(own.samplesPerVolume).toMatchObject({ value: 4, from: 'graph metadata' });
  });

  it("`mam eval` / `mam run`: the graph's test windows, else overlap 0.5 × 4; each flag overrides its part", () => {
    const meta: TrainingSettings = { slidingWindow: { test: { overlap: 0.25, batchSize: 3 } } };
    expect(resolveTestWindow(meta, {})).toEqual({
      value: { overlap: 0.25, batchSize: 3 },
      from: 'graph metadata',
    });
    expect(resolveTestWindow(meta, { overlap: 0.6 })).toMatchObject({
      value: { overlap: 0.6, batchSize: 3 },
      from: 'override',
    });
    expect(resolveTestWindow(meta, { batch: 1 }).value).toEqual({ overlap: 0.25, batchSize: 1 });
    expect(resolveTestWindow(undefined, {})).toMatchObject({
      value: { overlap: 0.5, batchSize: 4 },
      from: 'default',
    });
  });

  it('the resolved windows are what the inference runs: 200×96×96 with roi 96 is 3 windows in 2 passes at validation, 4 in 1 at test', async () => {
    const run = resolveVolumeRun(training('nnformer'), {}, 1, [96, 96, 96]);
    const volume = new Float32Array(200 * 96 * 96);
    for (const [w, want] of [
      [run.settings.validationWindow!, [2, 1]],
      [run.settings.testWindow!, [4]],
    ] as const) {
      const batches: number[] = [];
      const before = tf.memory().numTensors;
      await slidingWindowInference(
        volume,
        [200, 96, 96],
        1,
        (x) => {
          batches.push(x.shape[0]);
          return tf.zeros([x.shape[0], 96, 96, 96, 1]);
        },
        { roi: [96, 96, 96], overlap: w.overlap, batchSize: w.batchSize },
      );
      expect(batches).toEqual(want);
      expect(tf.memory().numTensors).toBe(before);
    }
  });
});

describe('mam inspect', () => {
  it('--json shows the 3D protocol with its reasons; the text report too', async () => {
    const j = await mamInProcess(['inspect', presetFile('nnformer-mam-demo'), '--json']);
    expect(j.code).toBe(0);
    const p = (JSON.parse(j.stdout) as { volumeProtocol: Record<string, unknown> }).volumeProtocol;
    expect(p.cropSize).toMatchObject({ value: [64, 64, 64] });
    // the demos take one crop a step (src/graph/presets-3d.ts: DEMO3D_METADATA), the reference 2
    expect(p.samplesPerVolume).toMatchObject({ value: 1, from: 'graph metadata' });
    expect(p.augment).toMatchObject({ value: [], from: 'graph metadata' });
    expect(p.validation).toEqual({
      value: { overlap: 0.25, batchSize: 2 },
      from: 'graph metadata',
    });
    expect(p.test).toEqual({ value: { overlap: 0.5, batchSize: 4 }, from: 'graph metadata' });
    const t = await mamInProcess(['inspect', presetFile('nnformer')]);
    expect(t.stdout).toContain('validation:   overlap 0.25, 2 windows per pass (graph metadata)');
    expect(t.stdout).toContain('test:         overlap 0.5, 4 windows per pass (graph metadata)');
    // a 2D graph has none
    const d2 = await mamInProcess(['inspect', presetFile('demo-mam'), '--json']);
    expect(JSON.parse(d2.stdout)).not.toHaveProperty('volumeProtocol');
  });
});
