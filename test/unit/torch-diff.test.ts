/**
 * Differential test of the torch runtime (python/mam_torch) against our
 * TypeScript model, for every preset: the TS model's seeded weights go to
 * torch as a safetensors file; torch's logits agree ≤ 1e-5 relative (max
 * |Δ| / max |TS|, float32 on the CPU), and after 3 SGD steps from the same
 * weights on the same batch (momentum 0.9, weight decay 1e-4, poly lr,
 * drop-path off) the weight updates agree ≤ 1e-4 relative, tensor by tensor.
 * Batch 1 at the preset's own input size (the Swin presets need 224² for
 * their 7×7 windows over four stages).
 */
import * as tf from '#tfjs';
import { mkdtempSync, readdirSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, beforeAll, expect, it } from 'vitest';
import { initBackend } from '../../src/backend/index.ts';
import { readNpy, writeNpy } from '../../src/compile/io/npy.ts';
import { readSafetensors, toFloat32 } from '../../src/compile/io/safetensors.ts';
import { saveWeights } from '../../src/compile/weights.ts';
import { compileGraphFile } from '../../src/cli/load-model.ts';
import { segmentationLoss } from '../../src/train/loss.ts';
import { installFastMatMulGradient } from '../../src/train/matmul-grad.ts';
import { Optimizer, optimizerSettings, polyLr } from '../../src/train/optim.ts';
import { maxAbs, Rng, relErr } from '../reference/math.ts';
import { printMeasured, record } from '../reference/harness.ts';
import { describeOracle, repoRoot } from './data-oracle.ts';
import { runPython } from '../helpers/torch-runtime.ts';

const STEPS = 3;
const LR = 0.01;
const presets = readdirSync(join(repoRoot, 'presets')).filter((f) => f.endsWith('.json'));

describeOracle('torch runtime vs the TypeScript model, every preset', () => {
  let root = '';
  beforeAll(async () => {
    await initBackend('wasm');
    installFastMatMulGradient();
    root = mkdtempSync(join(tmpdir(), 'mam-torch-diff-'));
  });
  afterAll(() => {
    if (root) rmSync(root, { recursive: true, force: true });
    printMeasured('torch-diff');
  });

  it('covers every preset', () => expect(presets.length).toBeGreaterThanOrEqual(8));

  for (const file of presets) {
    it(`${file}: logits ≤ 1e-5 and ${STEPS} SGD steps ≤ 1e-4 relative`, async () => {
      const t0 = performance.now();
      const dir = mkdtempSync(join(root, 'p-'));
      const graphPath = join(repoRoot, 'presets', file);
      const { model, plan } = await compileGraphFile(graphPath, 7);
      try {
        const [, H, W, C] = plan.input.shape;
        const K = plan.classNames.length;
        const rng = new Rng(11);
        const x = Float32Array.from({ length: H * W * C }, () => rng.uniform());
        const y = Int32Array.from({ length: H * W }, () => Math.floor(rng.uniform() * K));
        writeFileSync(join(dir, 'w0.safetensors'), saveWeights(model));
        writeFileSync(join(dir, 'x.npy'), writeNpy(x, [1, H, W, C]));
        writeFileSync(join(dir, 'y.npy'), writeNpy(y, [1, H, W]));

        const before = readSafetensors(saveWeights(model));
        const xs = tf.tensor4d(x, [1, H, W, C]);
        const ys = tf.tensor3d(y, [1, H, W], 'int32');
        const logits = model.predict(xs);
        const ours = logits.dataSync().slice();
        logits.dispose();
        const params = new Map([...model.weights.values()].map((w) => [w.key, w.variable]));
        const opt = new Optimizer(optimizerSettings('sgd'), params);
        const losses: number[] = [];
        for (let t = 0; t < STEPS; t++) {
          const loss = tf.tidy(() => {
            const { value, grads } = tf.variableGrads(
              () => segmentationLoss(model.forward(xs, { training: false }).logits, ys).loss,
              model.variables,
            );
            const byKey: Record<string, tf.Tensor> = {};
            for (const w of model.weights.values()) byKey[w.key] = grads[w.variable.name];
            opt.apply(byKey, polyLr(LR, t, STEPS));
            return value;
          });
          losses.push(loss.dataSync()[0]);
          loss.dispose();
        }
        opt.dispose();
        tf.dispose([xs, ys]);

        const r = await runPython([
          'test/python/torch_runtime_diff.py',
          graphPath,
          dir,
          String(STEPS),
          String(LR),
        ]);
        expect(r.stderr + `exit ${r.code}`).toBe('exit 0');
        const theirs = readNpy(new Uint8Array(readFileSync(join(dir, 'torch_logits.npy'))));
        expect(theirs.shape).toEqual([1, H, W, K]);
        const logitErr = record(`${file} logits`, relErr(theirs.data as Float32Array, ours));
        expect(logitErr).toBeLessThanOrEqual(1e-5);
        const torchLosses = JSON.parse(readFileSync(join(dir, 'torch_losses.json'), 'utf8'));
        expect(relErr(torchLosses, losses)).toBeLessThanOrEqual(1e-4);

        const after = readSafetensors(
          new Uint8Array(readFileSync(join(dir, `torch_w${STEPS}.safetensors`))),
        );
        const now = readSafetensors(saveWeights(model));
        // Per tensor: max |Δtorch − Δours| / max |Δours|, where differences below the
        // float32 resolution of the stored weights (4 ulp of max |w|) are not counted.
        let worst = 0;
        let worstKey = '';
        for (const w of model.weights.values()) {
          const key = `${w.node}.${w.spec.name}`;
          const t = after.tensors.get(key);
          expect(t, key).toBeDefined();
          const w0 = toFloat32(before.tensors.get(key)!);
          const oursNow = toFloat32(now.tensors.get(key)!);
          const theirsNow = toFloat32(t!);
          const resolution = 4 * 2 ** -23 * Math.max(maxAbs(w0), maxAbs(oursNow));
          let diff = 0;
          let scale = 0;
          for (let i = 0; i < w0.length; i++) {
            diff = Math.max(diff, Math.abs(theirsNow[i] - oursNow[i]));
            scale = Math.max(scale, Math.abs(oursNow[i] - w0[i]));
          }
          const e = scale === 0 ? diff : Math.max(0, diff - resolution) / scale;
          if (e > worst) [worst, worstKey] = [e, key];
        }
        record(`${file} ${STEPS}-step updates (worst: ${worstKey})`, worst);
        expect(worst, worstKey).toBeLessThanOrEqual(1e-4);
      } finally {
        model.dispose();
        rmSync(dir, { recursive: true, force: true });
      }
      console.log(`torch-diff ${file}: ${((performance.now() - t0) / 1000).toFixed(1)} s`);
    }, 900_000);
  }
});
