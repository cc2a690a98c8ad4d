/**
 * The `mam` command's contract: strict flags (an unknown flag or value is a
 * usage error naming it), one exit code per failure with a one-line message,
 * the weights policy (--allow-partial), a run folder left untouched when a
 * run cannot start, each case scored once, and resizes said and recorded.
 */
import { existsSync, mkdtempSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { cpus, tmpdir } from 'node:os';
import * as path from 'node:path';
import * as tf from '#tfjs';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { initBackend } from '../../src/backend/index.ts';
import { EXIT_CODES } from '../../src/cli/errors.ts';
import { main } from '../../src/cli/main.ts';
import { readNpy, writeNpy } from '../../src/compile/io/npy.ts';
import { readSafetensors, toFloat32, writeSafetensors } from '../../src/compile/io/safetensors.ts';
import { CompiledModel } from '../../src/compile/model.ts';
import { planGraph } from '../../src/compile/plan.ts';
import { saveWeights } from '../../src/compile/weights.ts';
import { mamInProcess, repoRoot, spawnMam, spawnNode, type MamResult } from '../helpers/mam-cli.ts';
import { niftiFolder } from '../helpers/nifti-folder.ts';
import { tinyGraph } from '../helpers/tiny-graph.ts';
import { catalogue } from '../../nodes/index.ts';
import { kernels } from '../../src/compile/kernels/index.ts';

let dir = '';
const at = (...p: string[]) => path.join(dir, ...p);
const mam = mamInProcess;

/** One step of `mam train` on the cpu backend, validating only at the end. */
const trainOneStep = (graph: string, data: string, out: string, more: string[] = []) =>
  mam(
    ['train', at(graph), '--data', at(data), '--backend', 'cpu', '--steps', '1'].concat([
      '--val-every',
      '0',
      '--out',
      at('runs', out),
      ...more,
    ]),
  );

/** The usage error contract: exit 64, one line on stderr naming the flag, nothing on stdout. */
function usage(r: MamResult, names: RegExp) {
  expect(r.code, r.stderr).toBe(EXIT_CODES.usage);
  expect(r.stderr).toMatch(names);
  expect(r.stderr.trim().split('\n')).toHaveLength(1);
  expect(r.stdout).toBe('');
}

beforeAll(async () => {
  dir = mkdtempSync(path.join(tmpdir(), 'mam-cli-strict-'));
  await tf.setBackend('cpu');
  writeFileSync(at('tiny.json'), JSON.stringify(tinyGraph()));
  writeFileSync(at('tiny-2ch.json'), JSON.stringify(tinyGraph({ channels: 2 })));
  writeFileSync(at('a-file'), 'not a folder');
  writeFileSync(at('x16.npy'), writeNpy(new Float32Array(16 * 16), [1, 16, 16, 1], 'f4'));
  niftiFolder(at('good'));
});

afterAll(() => {
  if (dir) rmSync(dir, { recursive: true, force: true });
});

describe('strict flags', () => {
  it('an unknown flag, a bad value or a missing value is exit 64 naming it; nothing runs', async () => {
    const g = at('tiny.json');
    const data = at('good');
    const out = at('runs', 'never');
    usage(
      await mam(['train', g, '--data', data, '--epoch', '5', '--out', out]),
      /unknown flag --epoch \(did you mean --epochs\?\)/,
    );
    usage(await mam(['train', g, '--data', data, '--step', '1', '--out', out]), /--step\b/);
    usage(
      await mam(['train', g, '--data', data, '--backend', 'nonsense', '--out', out]),
      /--backend nonsense: use one of auto, webgpu, wasm, cpu/,
    );
    usage(
      await mam(['eval', g, '--weights', 'w', '--data', data, '--normalise', 'bogus']),
      /--normalise bogus: use one of auto, none, uint8, ct, percentile/,
    );
    usage(
      await mam(['run', g, '--input', 'x.npy', '--output', 'y.npy', '--batch', '0']),
      /--batch 0: expected a whole number ≥ 1/,
    );
    usage(await mam(['train', g, '--data', data, '--lr', '--out', out]), /--lr needs a value/);
    usage(await mam(['inspect', g, '--json=yes']), /--json takes no value/);
    usage(await mam(['run', g, '--input', 'x.npy']), /--output is required/);
    usage(await mam(['inspect', g, 'extra.json']), /unexpected argument 'extra\.json'/);
    usage(await mam(['frobnicate']), /unknown command 'frobnicate'/);
    expect(existsSync(out)).toBe(false);
  });

  it('--help per verb lists its flags with their allowed values, exit 0', async () => {
    for (const verb of ['inspect', 'run', 'import', 'train', 'eval']) {
      const r = await mam([verb, '--help']);
      expect(r.code).toBe(0);
      expect(r.stdout).toMatch(new RegExp(`^usage: mam ${verb} <graph\\.json>`));
    }
    const train = (await mam(['train', '--help'])).stdout;
    expect(train).toMatch(/--resize <rule> .*\(stretch, pad\)/);
    expect(train).toMatch(/--batch <N> .*\(a whole number ≥ 1\)/);
  });
});

describe('exit codes and messages', () => {
  it('the wasm backend leaves the process error handlers alone', async () => {
    const before = [
      process.listeners('uncaughtException').length,
      process.listeners('unhandledRejection').length,
    ];
    const info = await initBackend('wasm');
    expect(info.name).toBe('wasm');
    expect([
      process.listeners('uncaughtException').length,
      process.listeners('unhandledRejection').length,
    ]).toEqual(before);
    await tf.setBackend('cpu');
  });

  it('an unwritable --out on wasm is exit 73 with one line naming it (not 7 and a stack)', async () => {
    const r = await spawnMam(
      ['train', 'tiny.json', '--data', 'good', '--backend', 'wasm', '--steps', '1'].concat([
        '--out',
        'a-file/run',
      ]),
      dir,
    );
    expect(r.code, r.stderr).toBe(EXIT_CODES.cannotWrite);
    expect(r.stderr).toMatch(/^mam train: cannot create run folder a-file\/run: .*not a folder$/m);
    expect(r.stderr).not.toMatch(/\n\s+at /);
    expect(r.stderr.length).toBeLessThan(2000);
  });

  it('run --threads 2 on wasm starts that many threads (at most the cores) and gives the logits of the cpu backend', async () => {
    const x = Float32Array.from({ length: 16 * 16 }, (_, i) => Math.sin(i * 0.37));
    writeFileSync(at('x16-sin.npy'), writeNpy(x, [1, 16, 16, 1], 'f4'));
    const run = (out: string, more: string[]) =>
      spawnMam(['run', 'tiny.json', '--input', 'x16-sin.npy', '--output', out, ...more], dir);
    const threads = Math.min(2, cpus().length);
    const wasm = await run('y-wasm.npy', ['--backend', 'wasm', '--threads', '2']);
    expect(wasm.code, wasm.stderr).toBe(0);
    expect(wasm.stderr + wasm.stdout).toMatch(
      new RegExp(`wasm \\(WebAssembly SIMD, ${threads} threads?\\)`),
    );
    const cpu = await run('y-cpu.npy', ['--backend', 'cpu']);
    expect(cpu.code, cpu.stderr).toBe(0);
    const a = readNpy(new Uint8Array(readFileSync(at('y-wasm.npy')))).data as Float32Array;
    const b = readNpy(new Uint8Array(readFileSync(at('y-cpu.npy')))).data as Float32Array;
    expect(a.length).toBe(b.length);
    expect(Math.max(...a.map((v, i) => Math.abs(v - b[i])))).toBeLessThan(1e-4);
    usage(
      await mam([
        'run',
        at('tiny.json'),
        '--input',
        'x.npy',
        '--output',
        'y.npy',
        '--threads',
        '0',
      ]),
      /--threads 0: expected a whole number 1–8/,
    );
  });

  it('an unwritable --output of run is exit 73, not 1', async () => {
    const run = await mam([
      'run',
      at('tiny.json'),
      '--input',
      at('x16.npy'),
      '--output',
      at('a-file', 'y.npy'),
      '--backend',
      'cpu',
    ]);
    expect(run.code, run.stderr).toBe(EXIT_CODES.cannotWrite);
    expect(run.stderr).toMatch(/cannot write logits .*a-file\/y\.npy/);
  });

  it('an internal fault is exit 70 and one line; --debug adds the stack', async () => {
    const io = (log: string[]) => ({
      print: () => {
        throw new Error('stdout went away');
      },
      log: (s: string) => log.push(s),
    });
    const plain: string[] = [];
    expect(await main(['inspect', at('tiny.json')], io(plain))).toBe(EXIT_CODES.internal);
    expect(plain).toEqual([
      'mam inspect: internal error: stdout went away (run again with --debug for the stack)',
    ]);
    const debug: string[] = [];
    expect(await main(['inspect', at('tiny.json'), '--debug'], io(debug))).toBe(
      EXIT_CODES.internal,
    );
    expect(debug.join('\n')).toMatch(/stdout went away\n.*\n\s+at /);
  });
});

/** The tiny graph compiled with seed 0, for weight files. */
function tinyModel(): CompiledModel {
  const plan = planGraph(tinyGraph(), catalogue, kernels);
  if (!plan.ok) throw new Error('tiny graph does not compile');
  return CompiledModel.create(plan.plan, { seed: 0 });
}

describe('escaped errors', () => {
  it("a rejection nobody awaited ends mam with exit 70 and one line, not Node's exit 1 and a stack", async () => {
    const code = [
      "const { guardProcess } = await import('./src/cli/main.ts');",
      'guardProcess([]);',
      "Promise.reject(new Error('stray'));",
    ].join('\n');
    const r = await spawnNode(['--import', 'tsx', '--input-type=module', '-e', code], repoRoot);
    expect(r.code).toBe(EXIT_CODES.internal);
    expect(r.stderr.trim()).toBe(
      'mam: internal error: stray (run again with --debug for the stack)',
    );
  });
});

describe('weights policy', () => {
  it('a state dict that fills part of the graph: exit 3 naming the file, 0 with --allow-partial; the report both times', async () => {
    // A PyTorch-style state dict (no mam-studio metadata) of every weight but the seg head's.
    const m = tinyModel();
    const tensors: Record<string, { shape: number[]; data: Float32Array }> = {};
    const left: string[] = [];
    for (const w of m.weights.values()) {
      const key = `${w.node}.${w.spec.name}`;
      if (w.node === 'output') left.push(key);
      else
        tensors[key] = {
          shape: w.spec.shape,
          data: new Float32Array(w.spec.shape.reduce((a, b) => a * b, 1)).fill(0.01),
        };
    }
    m.dispose();
    expect(left).toEqual(['output.weight']);
    writeFileSync(at('partial.safetensors'), writeSafetensors(tensors));
    const args = [
      'run',
      at('tiny.json'),
      '--input',
      at('x16.npy'),
      '--weights',
      at('partial.safetensors'),
    ];
    const refused = await mam([...args, '--output', at('y-refused.npy')]);
    expect(refused.code, refused.stderr).toBe(EXIT_CODES.badWeights);
    expect(refused.stderr).toMatch(/missing 1,/);
    expect(refused.stderr).toMatch(/missing +output\.weight/);
    expect(refused.stderr).toMatch(/partial\.safetensors fills .* pass --allow-partial/);
    expect(existsSync(at('y-refused.npy'))).toBe(false);
    const allowed = await mam([...args, '--output', at('y-allowed.npy'), '--allow-partial']);
    expect(allowed.code, allowed.stderr).toBe(0);
    expect(allowed.stderr).toMatch(/missing 1,/);
    expect(allowed.stderr).toMatch(/missing +output\.weight/);
    expect(existsSync(at('y-allowed.npy'))).toBe(true);
  });

  it('a checkpoint of this graph missing one tensor names the tensor, not the same fingerprint twice', async () => {
    const m = tinyModel();
    const file = readSafetensors(saveWeights(m));
    m.dispose();
    const tensors: Record<string, { shape: number[]; data: Float32Array }> = {};
    for (const [k, t] of file.tensors)
      if (k !== 'output.weight') tensors[k] = { shape: t.shape, data: toFloat32(t) };
    writeFileSync(at('damaged.safetensors'), writeSafetensors(tensors, file.metadata));
    const r = await mam([
      'run',
      at('tiny.json'),
      '--input',
      at('x16.npy'),
      '--output',
      at('y-damaged.npy'),
      '--weights',
      at('damaged.safetensors'),
    ]);
    expect(r.code).toBe(EXIT_CODES.badWeights);
    expect(r.stderr).toMatch(
      /was written for this graph .* 1 weights of the graph are not in the file \(output\.weight\)/,
    );
    const fp = file.metadata.fingerprint;
    expect(r.stderr.split(fp).length - 1).toBe(1);
  });
});

describe('run folder', () => {
  it('a --resume with a changed graph exits 3 naming the weight and leaves the run folder byte for byte', async () => {
    const common = [
      '--data',
      at('good'),
      '--backend',
      'cpu',
      '--val-every',
      '0',
      '--out',
      at('runs', 'r'),
    ];
    const first = await mam(['train', at('tiny.json'), ...common, '--steps', '2']);
    expect(first.code, first.stderr).toBe(0);
    const files = ['run.json', 'checkpoint/state.json', 'checkpoint/weights.safetensors'];
    const before = files.map((f) => readFileSync(at('runs', 'r', f)));
    const resumed = await mam(['train', at('tiny-2ch.json'), ...common, '--resume']);
    expect(resumed.code, resumed.stderr).toBe(EXIT_CODES.badWeights);
    expect(resumed.stderr).toMatch(/patch_embed\.proj\.weight: file 8×1×2×2, graph 8×2×2×2/);
    files.forEach((f, i) =>
      expect(readFileSync(at('runs', 'r', f)).equals(before[i]), f).toBe(true),
    );
  });

  it('two-channel data on a one-channel graph: exit 4 naming the file, no run folder', async () => {
    niftiFolder(at('two'), { channels: 2 });
    const out = at('runs', 'two');
    const r = await trainOneStep('tiny.json', 'two', 'two');
    expect(r.code, r.stderr).toBe(EXIT_CODES.badData);
    expect(r.stderr).toMatch(/case0_0000\.nii\.gz has 2 channels but the graph's input takes 1/);
    expect(existsSync(out)).toBe(false);
  });

  it('raw labels above 255 are labels outside the class table: exit 8 naming the file', async () => {
    niftiFolder(at('big'), { damage: { label: 300 } });
    const r = await trainOneStep('tiny.json', 'big', 'big');
    expect(r.code, r.stderr).toBe(EXIT_CODES.labelRange);
    expect(r.stderr).toMatch(
      /labelsTr\/case1\.nii\.gz holds label 300 \(voxel 7\), outside any class table/,
    );
  });
});

describe('eval', () => {
  it('a folder with a single case scores it once', async () => {
    niftiFolder(at('one'), { cases: 1 });
    const m = tinyModel();
    writeFileSync(at('tiny.safetensors'), saveWeights(m));
    m.dispose();
    const r = await mam([
      'eval',
      at('tiny.json'),
      '--weights',
      at('tiny.safetensors'),
      '--data',
      at('one'),
      '--backend',
      'cpu',
      '--json',
    ]);
    expect(r.code, r.stderr).toBe(0);
    const j = JSON.parse(r.stdout) as { summary: { volumes: number }; cases: unknown[] };
    expect(j.summary.volumes).toBe(1);
    expect(j.cases).toHaveLength(1);
  });
});

describe('resize', () => {
  it('16×24 slices on a 16×16 graph: said and recorded in run.json, stretch by default, pad keeps the aspect', async () => {
    niftiFolder(at('wide'), { cases: 2, size: [16, 24] });
    const train = (rule: string[], out: string) => trainOneStep('tiny.json', 'wide', out, rule);
    const stretch = await train([], 'stretch');
    const pad = await train(['--resize', 'pad'], 'pad');
    expect(stretch.code, stretch.stderr).toBe(0);
    expect(pad.code, pad.stderr).toBe(0);
    // two cases split one for training, one for validation: 4 training slices of 16×24
    expect(stretch.stderr).toMatch(
      /resizing 4 slices of 16×24 stretched to 16×16 \(aspect 1\.50 → 1\.00/,
    );
    // scale 16/24 keeps the aspect: 16×24 → 10.67×16, rounded 11×16, padded to 16×16
    expect(pad.stderr).toMatch(
      /resizing 4 slices of 16×24 scaled to 11×16 keeping the aspect and padded with zeros to 16×16/,
    );
    const record = (out: string) =>
      (
        JSON.parse(readFileSync(at('runs', out, 'run.json'), 'utf8')) as {
          data: { resize: unknown };
        }
      ).data.resize;
    expect(record('stretch')).toEqual({
      rule: 'stretch',
      input: [16, 16],
      slices: [{ from: [16, 24], to: [16, 16], rule: 'stretch', scaled: [16, 16], slices: 4 }],
    });
    expect(record('pad')).toEqual({
      rule: 'pad',
      input: [16, 16],
      slices: [{ from: [16, 24], to: [16, 16], rule: 'pad', scaled: [11, 16], slices: 4 }],
    });
  });

  it('eval resizes as the weights were trained (pad, from their metadata) and says so', async () => {
    niftiFolder(at('wide-eval'), { cases: 2, size: [16, 24] });
    const out = at('runs', 'pad-eval');
    const trained = await trainOneStep('tiny.json', 'wide-eval', 'pad-eval', ['--resize', 'pad']);
    expect(trained.code, trained.stderr).toBe(0);
    const r = await mam([
      'eval',
      at('tiny.json'),
      '--weights',
      path.join(out, 'best.safetensors'),
      '--data',
      at('wide-eval'),
      '--backend',
      'cpu',
      '--json',
    ]);
    expect(r.code, r.stderr).toBe(0);
    // no test split: every labelled case, 2 × 4 slices
    expect(r.stderr).toMatch(/resizing 8 slices of 16×24 scaled to 11×16 keeping the aspect/);
    expect((JSON.parse(r.stdout) as { resize: string }).resize).toBe('pad');
  });

  it('run: another size is refused naming --resize; --resize pad equals the same image padded by hand', async () => {
    // a 16×8 one-channel image; padded to 16×16 it sits in columns 4–11
    const small = Float32Array.from({ length: 16 * 8 }, (_, i) => ((i * 7) % 13) / 13);
    const padded = new Float32Array(16 * 16);
    for (let r = 0; r < 16; r++)
      for (let c = 0; c < 8; c++) padded[r * 16 + 4 + c] = small[r * 8 + c];
    writeFileSync(at('small.npy'), writeNpy(small, [1, 16, 8, 1], 'f4'));
    writeFileSync(at('padded.npy'), writeNpy(padded, [1, 16, 16, 1], 'f4'));
    const run = (input: string, output: string, more: string[] = []) =>
      mam([
        'run',
        at('tiny.json'),
        '--input',
        at(input),
        '--output',
        at(output),
        '--backend',
        'cpu',
        ...more,
      ]);
    const refused = await run('small.npy', 'never.npy');
    expect(refused.code).toBe(EXIT_CODES.badData);
    expect(refused.stderr).toMatch(
      /small\.npy is 1×16×8×1; the graph expects N×16×16×1 .*--resize stretch or --resize pad/,
    );
    const a = await run('small.npy', 'from-small.npy', ['--resize', 'pad']);
    expect(a.code, a.stderr).toBe(0);
    expect(a.stderr).toMatch(
      /resizing 1 slice of 16×8 scaled to 16×8 keeping the aspect and padded with zeros to 16×16/,
    );
    const b = await run('padded.npy', 'from-padded.npy');
    expect(b.code, b.stderr).toBe(0);
    const ya = readNpy(new Uint8Array(readFileSync(at('from-small.npy'))));
    const yb = readNpy(new Uint8Array(readFileSync(at('from-padded.npy'))));
    expect(ya.shape).toEqual([1, 16, 16, 3]);
    expect(Array.from(ya.data as Float32Array)).toEqual(Array.from(yb.data as Float32Array));
  });
});
