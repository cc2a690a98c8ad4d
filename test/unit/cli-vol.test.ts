/**
 * The `mam` command on volumes: `train` / `eval` with `--data demo3d` (random
 * crops, sliding-window validation and test), `run` on a NIfTI volume (labels
 * written as NIfTI with the input's grid and affine) and on an NDHWC .npy, and
 * the refusals (a 3D graph on 2D data, a 2D graph on the 3D demo, a 2D .npy for
 * a 3D graph, a NIfTI input without a NIfTI output), each one line with its
 * exit code and nothing written. Runs in-process with the tiny 3D graph's
 * kernel table (test/helpers/tiny-3d.ts) until the 3D kinds' kernels land; the
 * demo presets' runs are skipped, saying why, until then.
 */
import { existsSync, mkdtempSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import * as path from 'node:path';
import * as tf from '#tfjs';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { catalogue } from '../../nodes/index.ts';
import { EXIT_CODES } from '../../src/cli/errors.ts';
import { readNpy, writeNpy } from '../../src/compile/io/npy.ts';
import { CompiledModel } from '../../src/compile/model.ts';
import { saveWeights } from '../../src/compile/weights.ts';
import { planGraph } from '../../src/compile/plan.ts';
import { demo3dDataDir } from '../../src/data/node-fs.ts';
import { readNifti } from '../../src/data/nifti.ts';
import { DEMO_CLASSES } from '../../src/graph/classes.ts';
import { loadGraph } from '../../src/graph/load.ts';
import { mamInProcess, repoRoot, twoStepWasmTrain } from '../helpers/mam-cli.ts';
import { hasKernel, kernels3d, tiny3dGraph } from '../helpers/tiny-3d.ts';
import type { Kernel } from '../../src/compile/kernels/types.ts';
import { tinyGraph } from '../helpers/tiny-graph.ts';

let dir = '';
const at = (...p: string[]) => path.join(dir, ...p);
const mam = (args: string[]) => mamInProcess(args, kernels3d);
/** `mam run tiny3d.json --input … --output …` on the cpu backend. */
const run3d = (input: string, output: string) =>
  mam(['run', at('tiny3d.json'), '--input', input, '--output', output, '--backend', 'cpu']);

beforeAll(async () => {
  dir = mkdtempSync(path.join(tmpdir(), 'mam-cli-vol-'));
  await tf.setBackend('cpu');
  writeFileSync(
    at('tiny3d.json'),
    JSON.stringify(tiny3dGraph({ size: [32, 32, 32], classes: DEMO_CLASSES })),
  );
  writeFileSync(at('tiny2d.json'), JSON.stringify(tinyGraph({ classes: DEMO_CLASSES })));
});

afterAll(() => {
  if (dir) rmSync(dir, { recursive: true, force: true });
});

describe('mam train / eval --data demo3d', () => {
  it('trains on crops, validates and tests whole volumes; eval writes NIfTI predictions with the cases’ affines', async () => {
    const run = at('run');
    const t = await mam([
      'train',
      at('tiny3d.json'),
      '--data',
      'demo3d',
      '--steps',
      '3',
      '--val-every',
      '3',
      '--batch',
      '2',
      '--backend',
      'wasm',
      '--out',
      run,
    ]);
    expect(t.stderr).toContain('1 volume (crops of 32×32×32)');
    expect(t.stderr).toContain('constant schedule');
    // a 3D graph that names no augmentation gets the reference's (3D-MAM-SPEC.md §f)
    expect(t.stderr).toContain(
      'augmentation of volumes: random crops, then RandShiftIntensity (±0.1, p 0.5), RandAffine (p 1, rotation ±0/0/0.1047, scale ±0.1/0.1/0.1) (default)',
    );
    expect(t.stderr).toContain(
      'sliding windows: validation overlap 0.25, 2 per pass (default); test overlap 0.5, 4 per pass (default)',
    );
    expect(t.code).toBe(EXIT_CODES.ok);
    expect(t.stdout).toContain('single-subject demo, not a benchmark');
    const metrics = JSON.parse(readFileSync(path.join(run, 'metrics.json'), 'utf8')) as {
      test: { summary: { perClass: Record<string, unknown> } };
      lastValidation: { step: number };
    };
    expect(Object.keys(metrics.test.summary.perClass)).toEqual(DEMO_CLASSES.slice(1));
    expect(metrics.lastValidation.step).toBe(3);
    const runJson = JSON.parse(readFileSync(path.join(run, 'run.json'), 'utf8')) as {
      data: { trainVolumes: number; crop: number[] };
    };
    expect(runJson.data.trainVolumes).toBe(1);
    expect(runJson.data.crop).toEqual([32, 32, 32]);

    const ev = await mam([
      'eval',
      at('tiny3d.json'),
      '--weights',
      path.join(run, 'best.safetensors'),
      '--data',
      'demo3d',
      '--split',
      'val',
      '--blend',
      'gaussian',
      '--backend',
      'wasm',
      '--json',
      '--out',
      at('eval'),
    ]);
    expect(ev.code).toBe(EXIT_CODES.ok);
    const json = JSON.parse(ev.stdout) as { slidingWindow: { roi: number[]; blend: string } };
    // demo-val is 66×79×66 (NIfTI i, j, k): [D, H, W] = [66, 79, 66]; windows every ⌊32·0.5⌋ = 16,
    // the last moved back to the edge: D 0, 16, 32, 34; H 0, 16, 32, 47; W as D → 4·4·4 = 64, 4 a pass
    expect(json.slidingWindow).toEqual({
      roi: [32, 32, 32],
      overlap: 0.5,
      windowsPerPass: 4,
      blend: 'gaussian',
      from: 'default',
      cases: [{ case: 'demo-val', shape: [66, 79, 66], windows: [4, 4, 4], total: 64, passes: 16 }],
    });
    const pred = readNifti(readFileSync(at('eval', 'predictions', 'demo-val.nii.gz')));
    const img = readNifti(readFileSync(path.join(demo3dDataDir(), 'image_val.nii.gz')));
    if (!pred.ok || !img.ok) throw new Error('unreadable');
    expect(pred.value.dims).toEqual(img.value.dims);
    expect(pred.value.affine).toEqual(img.value.affine);
  });
});

describe('mam eval on volumes: the sliding windows it used', () => {
  /** Weights of a tiny 3D graph at `size`³ (its seeded initialisation), as a file for --weights. */
  const tinyWeights = (name: string, size: number) => {
    const doc = tiny3dGraph({ size: [size, size, size], classes: DEMO_CLASSES });
    writeFileSync(at(`${name}.json`), JSON.stringify(doc));
    const plan = planGraph(doc, catalogue, kernels3d);
    if (!plan.ok) throw new Error('tiny 3D graph does not compile');
    const model = CompiledModel.create(plan.plan, { seed: 0 });
    writeFileSync(at(`${name}.safetensors`), saveWeights(model));
    model.dispose();
    return [at(`${name}.json`), at(`${name}.safetensors`)];
  };
  const evalTest = (graph: string, weights: string, ...flags: string[]) =>
    mam(['eval', graph, '--weights', weights, '--data', 'demo3d', '--backend', 'wasm', ...flags]);

  it('the test volume, 66×79×66 (i, j, k): 64³ windows at overlap 0.5 in --json; 32³ at 0.25, 3 a pass, in the text', async () => {
    const img = readNifti(readFileSync(path.join(demo3dDataDir(), 'image_test.nii.gz')));
    if (!img.ok) throw new Error('unreadable');
    expect(img.value.dims).toEqual([66, 79, 66]); // so [D, H, W] = [66, 79, 66]

    const [g64, w64] = tinyWeights('sw64', 64);
    const j = await evalTest(g64, w64, '--json');
    expect(j.code, j.stderr).toBe(EXIT_CODES.ok);
    // 64³ at overlap 0.5: every ⌊64·0.5⌋ = 32, the last moved back to the edge: D 0, 2; H 0, 15; W 0, 2
    expect(JSON.parse(j.stdout).slidingWindow).toEqual({
      roi: [64, 64, 64],
      overlap: 0.5,
      windowsPerPass: 4,
      blend: 'constant',
      from: 'default',
      cases: [{ case: 'demo-test', shape: [66, 79, 66], windows: [2, 2, 2], total: 8, passes: 2 }],
    });

    const [g32, w32] = tinyWeights('sw32', 32);
    const t = await evalTest(g32, w32, '--overlap', '0.25', '--batch', '3');
    expect(t.code, t.stderr).toBe(EXIT_CODES.ok);
    // every ⌊32·0.75⌋ = 24: D 0, 24, 34; H 0, 24, 47; W as D → 3·3·3 = 27, ⌈27/3⌉ = 9 passes
    expect(t.stdout).toContain(
      'sliding windows of 32×32×32: overlap 0.25, 3 windows per pass (override), constant blending\n' +
        '  demo-test (66×79×66): 3×3×3 = 27 windows in 9 passes\n',
    );
  });
});

describe('mam run on volumes', () => {
  it('a .nii.gz input: labels for every voxel, written as NIfTI with the input’s grid and affine', async () => {
    const input = path.join(demo3dDataDir(), 'image_test.nii.gz');
    const r = await run3d(input, at('test-pred.nii.gz'));
    expect(r.code).toBe(EXIT_CODES.ok);
    const out = readNifti(readFileSync(at('test-pred.nii.gz')));
    const img = readNifti(readFileSync(input));
    if (!out.ok || !img.ok) throw new Error('unreadable');
    expect(out.value.dims).toEqual(img.value.dims);
    expect(out.value.affine).toEqual(img.value.affine);
    expect(out.value.datatype).toBe('uint8');
    expect(out.value.data.every((v) => v < DEMO_CLASSES.length)).toBe(true);
  });

  it('an NDHWC .npy of the input’s size: the logits of one plain forward pass', async () => {
    const doc = tiny3dGraph({ size: [32, 32, 32], classes: DEMO_CLASSES });
    const x = Float32Array.from({ length: 32 ** 3 }, (_, i) => ((i * 13) % 17) / 17);
    writeFileSync(at('x.npy'), writeNpy(x, [1, 32, 32, 32, 1], 'f4'));
    const r = await run3d(at('x.npy'), at('y.npy'));
    expect(r.code).toBe(EXIT_CODES.ok);
    const y = readNpy(readFileSync(at('y.npy')));
    expect(y.shape).toEqual([1, 32, 32, 32, 8]);
    // one window covers the volume: the blend is that window's logits
    const plan = planGraph(doc, catalogue, kernels3d);
    if (!plan.ok) throw new Error('tiny 3D graph does not compile');
    const model = CompiledModel.create(plan.plan, { seed: 0 });
    const direct = tf.tidy(() =>
      model.predict(tf.tensor(x, [1, 32, 32, 32, 1]) as unknown as tf.Tensor4D).dataSync(),
    );
    model.dispose();
    let worst = 0;
    for (let i = 0; i < direct.length; i++)
      worst = Math.max(worst, Math.abs(direct[i] - (y.data as Float32Array)[i]));
    expect(worst).toBeLessThan(1e-6);
  });

  it("the graph's metadata.training.slidingWindow.test sets the windows; --overlap overrides its overlap", async () => {
    const doc = tiny3dGraph({ size: [8, 8, 8], classes: ['background', 'a', 'b'] });
    doc.metadata!.training!.slidingWindow = { test: { overlap: 0.25, batchSize: 3 } };
    writeFileSync(at('sw.json'), JSON.stringify(doc));
    const [D, R, K] = [20, 8, 3]; // a 20×8×8 volume, 8³ windows, 3 classes
    const x = Float32Array.from({ length: D * R * R }, (_, i) => ((i * 7) % 11) / 11);
    writeFileSync(at('x20.npy'), writeNpy(x, [1, D, R, R, 1], 'f4'));
    const plan = planGraph(doc, catalogue, kernels3d);
    if (!plan.ok) throw new Error('tiny 3D graph does not compile');
    const model = CompiledModel.create(plan.plan, { seed: 0 });
    /** MONAI's constant blend by hand: the mean, in float64, of the windows starting at depths `starts`. */
    const reference = (starts: number[]) => {
      const sum = new Float64Array(D * R * R * K);
      const count = new Float64Array(D);
      for (const s of starts) {
        const win = x.subarray(s * R * R, (s + R) * R * R);
        const y = tf.tidy(() =>
          model.predict(tf.tensor(win, [1, R, R, R, 1]) as unknown as tf.Tensor4D).dataSync(),
        );
        y.forEach((v, i) => (sum[s * R * R * K + i] += v));
        for (let d = s; d < s + R; d++) count[d]++;
      }
      return sum.map((v, i) => v / count[Math.floor(i / (R * R * K))]);
    };
    const worstDiff = (a: Float64Array, file: string) => {
      const y = readNpy(readFileSync(file)).data as Float32Array;
      return a.reduce((m, v, i) => Math.max(m, Math.abs(v - y[i])), 0);
    };
    const runSw = (...flags: string[]) =>
      mam(['run', at('sw.json'), '--input', at('x20.npy'), '--output', at('y20.npy'), ...flags]);
    // overlap 0.25: interval ⌊8·0.75⌋ = 6, windows at depths 0, 6, 12
    const fromGraph = await runSw('--backend', 'cpu');
    expect(fromGraph.code, fromGraph.stderr).toBe(EXIT_CODES.ok);
    expect(fromGraph.stdout).toMatch(/overlap 0\.25, 3 windows per pass \(graph metadata\)/);
    expect(worstDiff(reference([0, 6, 12]), at('y20.npy'))).toBeLessThan(1e-5);
    // --overlap 0.5: interval 4, windows at depths 0, 4, 8, 12; the graph's 3 per pass stay
    const flagged = await runSw('--backend', 'cpu', '--overlap', '0.5');
    expect(flagged.code, flagged.stderr).toBe(EXIT_CODES.ok);
    expect(flagged.stdout).toMatch(/overlap 0\.5, 3 windows per pass \(override: /);
    expect(worstDiff(reference([0, 4, 8, 12]), at('y20.npy'))).toBeLessThan(1e-5);
    model.dispose();
  });
});

describe('refusals: one line, its exit code, nothing written', () => {
  it('a 3D graph on 2D data, a 2D graph on the 3D demo, a 2D .npy for a 3D graph, a NIfTI input with an .npy output', async () => {
    const train = (graph: string, data: string, out: string) =>
      mam([
        'train',
        at(graph),
        '--data',
        data,
        '--steps',
        '1',
        '--backend',
        'cpu',
        '--out',
        at(out),
      ]);
    const r3on2 = await train('tiny3d.json', 'demo', 'r1');
    expect(r3on2.code).toBe(EXIT_CODES.badData);
    expect(r3on2.stderr.trim().split('\n').at(-1)).toBe(
      'mam train: the graph takes volumes (B×32×32×32×1) but demo holds 2D slices: give it volumes (demo3d, or a NIfTI folder)',
    );
    expect(existsSync(at('r1'))).toBe(false);
    const r2on3 = await train('tiny2d.json', 'demo3d', 'r2');
    expect(r2on3.code).toBe(EXIT_CODES.badData);
    expect(r2on3.stderr).toContain(
      'the graph takes 2D images (B×16×16×1) but demo3d holds whole volumes for 3D graphs',
    );
    expect(existsSync(at('r2'))).toBe(false);

    writeFileSync(at('flat.npy'), writeNpy(new Float32Array(2 * 32 * 32), [2, 32, 32, 1], 'f4'));
    const flat = await run3d(at('flat.npy'), at('o.npy'));
    expect(flat.code).toBe(EXIT_CODES.badData);
    expect(flat.stderr).toContain(
      'is 2×32×32×1; the graph takes volumes N×D×H×W×1 (NDHWC float32; any D, H, W: sliding windows of 32×32×32)',
    );
    expect(existsSync(at('o.npy'))).toBe(false);

    const npyOut = await mam([
      'run',
      at('tiny3d.json'),
      '--input',
      path.join(demo3dDataDir(), 'image_val.nii.gz'),
      '--output',
      at('o2.npy'),
    ]);
    expect(npyOut.code).toBe(EXIT_CODES.usage);
    expect(npyOut.stderr).toContain('name it .nii.gz or .nii');
    expect(existsSync(at('o2.npy'))).toBe(false);
  });
});

describe('mam train out of WebAssembly memory', () => {
  it('says so in one line naming the node, batch and crop; the run folder and its checkpoint stay', async () => {
    // node 'enc' asks wasm for a 4 GiB buffer in the second training step: a
    // real allocation failure of the 4 GiB heap, reached without filling it
    let trainingCalls = 0;
    const conv = kernels3d.get('conv3d')!;
    const greedy: Kernel = (ctx) => {
      if (ctx.params.outChannels === 4 && ctx.training && ++trainingCalls === 2)
        tf.zeros([2 ** 30]);
      return conv(ctx);
    };
    const table = new Map(kernels3d);
    table.set('conv3d', greedy);
    writeFileSync(
      at('tiny3d-16.json'),
      JSON.stringify(tiny3dGraph({ size: [16, 16, 16], classes: DEMO_CLASSES })),
    );
    const run = at('oom-run');
    const r = await mamInProcess(twoStepWasmTrain(at('tiny3d-16.json'), run), table);
    expect(trainingCalls).toBe(2);
    expect(r.code).toBe(EXIT_CODES.backend);
    const last = r.stderr.trim().split('\n').at(-1);
    expect(last).toBe(
      'mam train: out of WebAssembly memory (4 GiB) in enc at batch 2, 16³: try batch 1 or a smaller crop',
    );
    expect(r.stderr).not.toContain('internal error');
    // step 1's checkpoint and best weights are still there
    expect(existsSync(path.join(run, 'best.safetensors'))).toBe(true);
    const state = JSON.parse(readFileSync(path.join(run, 'checkpoint', 'state.json'), 'utf8')) as {
      step: number;
    };
    expect(state.step).toBe(1);
  }, 300_000);
});

/** Why a preset cannot run here yet (its file or a kind's kernel missing), or null. */
function presetBlocker(name: string): string | null {
  const file = path.join(repoRoot, 'presets', `${name}.json`);
  if (!existsSync(file)) return `presets/${name}.json not found`;
  const g = loadGraph(readFileSync(file, 'utf8'), catalogue);
  if (!g.ok) return `presets/${name}.json does not load`;
  const missing = [...new Set(g.graph.nodes.map((n) => n.type))].filter(
    (t) => t !== 'output' && !hasKernel(t),
  );
  return missing.length ? `no kernel yet for ${missing.join(', ')}` : null;
}

for (const preset of ['swinunetr-mam-demo', 'nnformer-mam-demo']) {
  const blocker = presetBlocker(preset);
  if (blocker) console.warn(`[skip] mam train ${preset} --data demo3d: ${blocker}`);
  it.skipIf(blocker !== null)(
    `mam train presets/${preset}.json --data demo3d: one step, validation and test by sliding window`,
    async () => {
      const r = await mamInProcess([
        'train',
        path.join(repoRoot, 'presets', `${preset}.json`),
        '--data',
        'demo3d',
        '--steps',
        '1',
        '--backend',
        'wasm',
        '--out',
        at(`${preset}-run`),
      ]);
      expect(r.code).toBe(EXIT_CODES.ok);
      expect(r.stderr).toContain('1 volume (crops of 64×64×64)');
      expect(existsSync(at(`${preset}-run`, 'best.safetensors'))).toBe(true);
    },
    // swinunetr-mam-demo's step of 2 crops, then sliding-window validation and test on wasm:
    // 9 min on the 2-core machine under load (peak RSS 4.1 GiB), so a generous limit.
    1_500_000,
  );
}
