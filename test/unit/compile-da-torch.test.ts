/**
 * Differential test against PyTorch: test/python/compile_da_transunet_oracle.py
 * builds DA-TransUNet and DA-TransUNet-MAM from DA-TRANSUNET-MAM-SPEC.md (its
 * own code, the reference's module tree, never-executed heads and discarded
 * side branches included) on a reduced configuration, with random perturbed
 * weights (every γ, BatchNorm statistic and norm affine non-trivial). We
 * import its state dict by name (the graph's weights and running statistics
 * all matched, the never-executed parts reported as skipped), and compare:
 * - eval-mode logits on cpu and wasm ≤ 1e-4 relative to max|torch|;
 * - 3 SGD steps in training mode (BatchNorm batch statistics, dropout 0) on
 *   wasm: the first step's logits, and every weight and running statistic
 *   after the third step, ≤ 1e-4 relative (compile-da-backends.test.ts has
 *   cpu = wasm = webgpu on a smaller network).
 * Skipped when .venv/bin/python is absent.
 */
import * as tf from '#tfjs';
import { execFileSync } from 'node:child_process';
import { mkdtempSync, readFileSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { catalogue } from '../../nodes/index.ts';
import { initBackend } from '../../src/backend/index.ts';
import { readNpy } from '../../src/compile/io/npy.ts';
import { readSafetensors, toFloat32 } from '../../src/compile/io/safetensors.ts';
import type { CompiledModel } from '../../src/compile/model.ts';
import { formatImportReport, importStateDict } from '../../src/compile/weights.ts';
import { SYNAPSE_CLASSES } from '../../src/graph/classes.ts';
import { daTransUnet, DA_TRANSUNET_SYNAPSE } from '../../src/graph/presets-da.ts';
import { printMeasured, record } from '../reference/harness.ts';
import { relErr } from '../reference/math.ts';
import { compileDoc } from './compile-fixtures.ts';
import { trainSteps } from './da-train-steps.ts';
import { REDUCED_DA } from '../helpers/da-reduced.ts';
import { describeOracle, venvPython as PY } from './data-oracle.ts';

const CONFIG = {
  ...REDUCED_DA,
  batch: 2,
  seed: 1234,
  steps: 3,
  lr: 0.05,
};

const graph = (memory: boolean, dropout?: number) =>
  daTransUnet(
    {
      ...CONFIG,
      classNames: ['background', 'a', 'b'],
      memory,
      title: 'oracle',
      description: '',
      ...(dropout === undefined ? {} : { dropout }),
    },
    catalogue,
  );

describeOracle('PyTorch DA-TransUNet(-MAM) oracle', () => {
  let dir = '';
  const read = (name: string) => new Uint8Array(readFileSync(join(dir, name)));
  const npy = (name: string) => readNpy(read(name));

  beforeAll(async () => {
    dir = mkdtempSync(join(tmpdir(), 'mam-da-oracle-'));
    execFileSync(PY, ['test/python/compile_da_transunet_oracle.py', dir, JSON.stringify(CONFIG)], {
      stdio: 'pipe',
    });
  });
  afterAll(async () => {
    if (dir) rmSync(dir, { recursive: true, force: true });
    printMeasured('compile-da-torch');
    await initBackend('cpu');
  });

  /** The oracle's weights in a fresh model of the graph, with the import report checked. */
  function imported(which: 'sam' | 'mam', dropout?: number): CompiledModel {
    const { model } = compileDoc(graph(which === 'mam', dropout), 5);
    const report = importStateDict(model, read(`${which}.safetensors`));
    expect(report.missing).toEqual([]);
    expect(report.unexpected).toEqual([]);
    expect(report.wrongShape).toEqual([]);
    expect(report.matched.length).toBe(model.weights.size);
    expect(report.matched).toContain('decoder.blocks.0.conv1.1.running_var');
    expect(report.notExecuted).toContain('decoder.blocks.2.da3.conv5a.0.weight');
    expect(report.notExecuted).toContain('decoder.blocks.0.da2.sa.gamma');
    expect(report.notExecuted).toContain('transformer.embeddings.DAblock1.conv6.1.weight');
    expect(report.notExecuted).not.toContain('decoder.blocks.0.da3.conv8.1.weight');
    expect(report.skipped).toContain('decoder.conv_more.1.num_batches_tracked');
    expect(formatImportReport(report)).toContain('never executed in the reference');
    return model;
  }

  const input = () => {
    const x = npy('x.npy');
    return tf.tensor4d(x.data as Float32Array, x.shape as [number, number, number, number]);
  };

  for (const which of ['sam', 'mam'] as const) {
    for (const backend of ['cpu', 'wasm'] as const) {
      it(`${which.toUpperCase()} on ${backend}: eval logits equal torch ≤ 1e-4`, async () => {
        await initBackend(backend);
        const model = imported(which);
        const x = input();
        const logits = model.predict(x);
        const want = npy(`${which}_logits.npy`);
        expect(logits.shape).toEqual(want.shape);
        const err = record(
          `${which} ${backend} eval logits`,
          relErr(await logits.data(), want.data as Float32Array),
        );
        expect(err).toBeLessThanOrEqual(1e-4);
        tf.dispose([x, logits]);
        model.dispose();
      });
    }
  }

  it('MAM and SAM torch logits differ (the memory chain matters)', () => {
    expect(
      relErr(
        npy('mam_logits.npy').data as Float32Array,
        npy('sam_logits.npy').data as Float32Array,
      ),
    ).toBeGreaterThan(1e-3);
  });

  it('training mode, wasm: first-step logits and the state after 3 SGD steps equal torch ≤ 1e-4', async () => {
    await initBackend('wasm');
    const model = imported('mam', 0);
    const x = input();
    const labels = npy('labels.npy');
    const r = await trainSteps(model, x, labels.data as Int32Array, labels.shape, CONFIG);
    tf.dispose(x);
    const want = npy('mam_train_logits.npy').data as Float32Array;
    expect(record('mam wasm train logits', relErr(r.first, want))).toBeLessThanOrEqual(1e-4);
    const torch = readSafetensors(read('mam_trained.safetensors'));
    const before = readSafetensors(read('mam.safetensors'));
    let worst = 0;
    let moved = 0;
    for (const [k, ours] of r.state) {
      const t = torch.tensors.get(k);
      expect(t, k).toBeDefined();
      worst = Math.max(worst, relErr(ours, toFloat32(t!)));
      moved = Math.max(moved, relErr(toFloat32(t!), toFloat32(before.tensors.get(k)!)));
    }
    record('mam wasm trained state vs torch', worst);
    expect(worst).toBeLessThanOrEqual(1e-4);
    expect(moved).toBeGreaterThan(1e-3); // the steps did change weights and running statistics
  });
});

/**
 * The full Synapse configuration (224×224×3, 9 classes, R50-ViT-B/16) on
 * wasm, eval mode: opt-in (MAM_DA_FULL=1), it takes minutes and gigabytes.
 */
const FULL = {
  ...DA_TRANSUNET_SYNAPSE,
  classes: 9,
  batch: 1,
  seed: 99,
  steps: 0,
  lr: 0,
};

(process.env.MAM_DA_FULL === '1' ? describeOracle : describe.skip)(
  'PyTorch DA-TransUNet(-MAM) oracle at full size (MAM_DA_FULL=1)',
  () => {
    let dir = '';
    const read = (name: string) => new Uint8Array(readFileSync(join(dir, name)));
    beforeAll(() => {
      dir = mkdtempSync(join(tmpdir(), 'mam-da-full-'));
      execFileSync(PY, ['test/python/compile_da_transunet_oracle.py', dir, JSON.stringify(FULL)], {
        stdio: 'pipe',
      });
    }, 1_800_000);
    afterAll(() => {
      if (dir) rmSync(dir, { recursive: true, force: true });
      printMeasured('compile-da-torch full');
    });
    for (const which of ['sam', 'mam'] as const) {
      it(
        `${which.toUpperCase()} 224×224×3, 9 classes, wasm: eval logits equal torch ≤ 1e-4`,
        { timeout: 1_800_000 },
        async () => {
          await initBackend('wasm');
          const { model } = compileDoc(
            daTransUnet(
              {
                ...DA_TRANSUNET_SYNAPSE,
                classNames: SYNAPSE_CLASSES,
                memory: which === 'mam',
                title: '',
                description: '',
              },
              catalogue,
            ),
            5,
          );
          const report = importStateDict(model, read(`${which}.safetensors`));
          expect(report.missing).toEqual([]);
          expect(report.unexpected).toEqual([]);
          expect(report.wrongShape).toEqual([]);
          expect(report.notExecuted).toContain('decoder.blocks.3.da.sa.query_conv.weight'); // the [0, 4, 1, 1] one
          const xin = readNpy(read('x.npy'));
          const x = tf.tensor4d(
            xin.data as Float32Array,
            xin.shape as [number, number, number, number],
          );
          const logits = model.predict(x);
          const want = readNpy(read(`${which}_logits.npy`));
          const err = record(
            `${which} full wasm eval logits`,
            relErr(await logits.data(), want.data as Float32Array),
          );
          expect(err).toBeLessThanOrEqual(1e-4);
          tf.dispose([x, logits]);
          model.dispose();
        },
      );
    }
  },
);
