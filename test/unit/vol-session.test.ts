/**
 * The Session (what the editor's worker drives) on volumes: a 3D graph trains
 * on crops of the train split's whole volumes and validates them by sliding
 * window, with flat tensor counts; a 3D graph on the 2D demo, or a 2D graph
 * on the 3D demo, is refused with one message and the session keeps its
 * graph and weights. Uses the tiny 3D graph until the 3D kinds' kernels land.
 */
import { readFileSync } from 'node:fs';
import * as path from 'node:path';
import * as tf from '#tfjs';
import { beforeAll, describe, expect, it } from 'vitest';
import { catalogue } from '../../nodes/index.ts';
import { kernels } from '../../src/compile/kernels/index.ts';
import { loadDemo } from '../../src/data/demo.ts';
import { demo3dDataDir, demoDataDir, nodeFileSource } from '../../src/data/node-fs.ts';
import { demoSessionData } from '../../src/session/demo-data.ts';
import { SessionError } from '../../src/session/errors.ts';
import { MemoryRunStore } from '../../src/session/run-store.ts';
import { Session, type SessionData, type SessionEvent } from '../../src/session/session.ts';
import { panelDefaults } from '../../src/session/settings.ts';
import { dataFingerprint } from '../../src/train/samples.ts';
import { kernels3d, phantom3dCase, tiny3dGraph } from '../helpers/tiny-3d.ts';
import { tinyGraph } from '../helpers/tiny-graph.ts';

beforeAll(async () => {
  await tf.setBackend('cpu');
});

function volumeData(): SessionData {
  const cases = {
    train: phantom3dCase('a', [14, 12, 16]),
    val: phantom3dCase('b', [10, 13, 11]),
    test: phantom3dCase('c', [9, 9, 9]),
  };
  const split = { slices: 10, classesPresent: ['organ1', 'organ2'] };
  return {
    info: {
      source: 'volume phantoms',
      classNames: ['background', 'organ1', 'organ2'],
      trainSlices: 0,
      splits: { train: split, val: split, test: split },
    },
    train: [],
    cases: { train: [cases.train], val: [cases.val], test: [cases.test] },
    fingerprint: dataFingerprint([cases.train, cases.val, cases.test]),
    splitRule: 'one case per split',
    layout: 'volumes',
  };
}

describe('Session on volumes', () => {
  it('trains a 3D graph on crops, validates whole volumes, tensors flat', async () => {
    const s = new Session({ catalogue, kernels: kernels3d, store: new MemoryRunStore() });
    const doc = tiny3dGraph();
    expect(s.compile(doc).ok).toBe(true);
    s.setData(volumeData());
    const events: SessionEvent[] = [];
    const done = new Promise<void>((resolve) =>
      s.listen((e) => {
        events.push(e);
        if (e.type === 'done') resolve();
      }),
    );
    const start = s.train({ ...panelDefaults(doc), steps: 4, valEvery: 2 }, false);
    expect(start.totalSteps).toBe(4);
    await done;
    const steps = events.filter((e) => e.type === 'step');
    expect(steps.map((e) => e.step)).toEqual([1, 2, 3, 4]);
    expect(steps[3].numTensors).toBe(steps[1].numTensors);
    const vals = events.filter((e) => e.type === 'validation');
    expect(vals.map((e) => e.point.step)).toEqual([2, 4]);
    expect(Object.keys(vals[0].perClass)).toEqual(['organ1', 'organ2']);
    expect(events.at(-1)).toMatchObject({ type: 'done', reason: 'completed', step: 4 });
    s.dispose();
  });

  it('a 3D graph on the 2D demo, a 2D graph on the 3D demo: refused in one message, graph and weights kept', async () => {
    const [d2, d3] = await Promise.all([
      loadDemo(nodeFileSource(demoDataDir())),
      loadDemo(nodeFileSource(demo3dDataDir())),
    ]);
    if (!d2.ok || !d3.ok) throw new Error('demo data does not load');
    const classes = d2.value.classNames;

    const s3 = new Session({ catalogue, kernels: kernels3d, store: new MemoryRunStore() });
    const doc3 = tiny3dGraph({ classes });
    const w3 = s3.compile(doc3);
    s3.setData(demoSessionData(d2.value));
    expect(() => s3.train(panelDefaults(doc3), false)).toThrow(SessionError);
    expect(() => s3.train(panelDefaults(doc3), false)).toThrow(
      /^the graph takes volumes \(B×8×8×8×1\) but demo: .* holds 2D slices: give it volumes/,
    );
    // the weights stay: compiling the same graph again carries every one of them unchanged
    const again = s3.compile(doc3);
    expect(again.ok && again.weights.digest).toBe(w3.ok && w3.weights.digest);
    s3.dispose();

    const s2 = new Session({ catalogue, kernels, store: new MemoryRunStore() });
    const doc2 = tinyGraph({ classes });
    s2.compile(doc2);
    s2.setData(demoSessionData(d3.value, 'demo3d'));
    await expect(s2.evaluate('test', 'monai')).rejects.toThrow(
      /^the graph takes 2D images \(B×16×16×1\) but demo3d: .* holds whole volumes for 3D graphs/,
    );
    s2.dispose();
  });
});

/** The relative and node: imports of a source file and everything it imports, transitively. */
function importGraph(entry: string): { files: Set<string>; nodeModules: Set<string> } {
  const files = new Set<string>();
  const nodeModules = new Set<string>();
  const visit = (file: string) => {
    if (files.has(file)) return;
    files.add(file);
    const text = readFileSync(file, 'utf8');
    for (const m of text.matchAll(/^(?:import|export)\s+(?!type\b)[^;]*?from\s+'([^']+)'/gms)) {
      const spec = m[1];
      if (spec.startsWith('node:')) nodeModules.add(`${path.basename(file)} → ${spec}`);
      else if (spec.startsWith('.')) visit(path.resolve(path.dirname(file), spec));
    }
  };
  visit(entry);
  return { files, nodeModules };
}

it("stays browser-safe (the editor's worker runs it): nothing it imports reaches a node: module", () => {
  const g = importGraph(path.resolve(import.meta.dirname, '../../src/session/session.ts'));
  expect(g.files.size).toBeGreaterThan(20);
  expect([...g.nodeModules]).toEqual([]);
});
