/**
 * The compiled 3D demos against oracles we did not write (test/python/compile_vol3d_oracle.py),
 * at 64³ × 1, 8 classes, random weights that make every path matter, on wasm:
 * - SwinUNETR (SAM) equals MONAI's `SwinUNETR` from PyPI (monai 1.6.1) with its patch
 *   merging set back to the reference's order (3D-MAM-SPEC.md §h), with OUR weights
 *   loaded into MONAI by name (every MONAI weight found in our file, only the
 *   `relative_position_index` buffers missing): the weight names are the reference's;
 * - SwinUNETR-MAM equals the same MONAI model with the memory of §c.5/§c.6;
 * - nnFormer and nnFormer-MAM equal a float64 PyTorch oracle written from the spec;
 * all ≤ 1e-5 relative to max|oracle| (SwinUNETR was 3.7e-5 while tfjs summed each instance
 * norm's 64³ voxels in one float32 run; now 6e-7). The reference's state dict of those weights (MONAI's
 * own for SwinUNETR; nnFormer's with its index buffers) imports by name with `mam import`,
 * the index buffers reported as skipped, and loads into the MAM preset. The memory path matters: the MAM oracle's logits
 * differ from its memory-off logits (which our SAM graph, same weights, reproduces).
 * Skipped when .venv/bin/python is absent.
 */
import * as tf from '#tfjs';
import { execFileSync, spawnSync } from 'node:child_process';
import { mkdtempSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, beforeAll, expect, it } from 'vitest';
import { catalogue } from '../../nodes/index.ts';
import { initBackend } from '../../src/backend/index.ts';
import { readNpy, writeNpy } from '../../src/compile/io/npy.ts';
import { readSafetensors, toFloat32 } from '../../src/compile/io/safetensors.ts';
import { loadWeights, saveWeights } from '../../src/compile/weights.ts';
import { DEMO_CLASSES } from '../../src/graph/classes.ts';
import { nnformerDemo, swinUnetrDemo } from '../../src/graph/presets-3d.ts';
import { printMeasured, record } from '../reference/harness.ts';
import { relErr, Rng } from '../reference/math.ts';
import { compileDoc, randomizeWeights } from './compile-fixtures.ts';
import { describeOracle, venvPython as PY } from './data-oracle.ts';

const SIZE = 64;

const FAMILIES = {
  swinunetr: {
    doc: (memory: boolean) => swinUnetrDemo(DEMO_CLASSES, memory, catalogue),
    config: { featureSize: 12, window: 4, inChannels: 1 },
  },
  nnformer: {
    doc: (memory: boolean) => nnformerDemo(DEMO_CLASSES, memory, catalogue),
    config: { patch: [2, 4, 4], heads: [2, 4, 8, 16], windows: [4, 4, 8, 4], depths: [2, 2, 2, 2] },
  },
} as const;

for (const family of ['swinunetr', 'nnformer'] as const) {
  describeOracle(`${family} (SAM and MAM) against its oracle at 64³, wasm`, () => {
    const f = FAMILIES[family];
    let dir = '';
    let weights: Uint8Array;
    let x: Float32Array;
    const npy = (name: string) => readNpy(new Uint8Array(readFileSync(join(dir, name))));

    beforeAll(async () => {
      await initBackend('wasm');
      dir = mkdtempSync(join(tmpdir(), `mam-vol3d-${family}-`));
      const { model } = compileDoc(f.doc(true), 0);
      randomizeWeights(model, 7);
      weights = saveWeights(model);
      model.dispose();
      x = Float32Array.from(new Rng(11).array(SIZE ** 3, 1));
      writeFileSync(join(dir, 'weights.safetensors'), weights);
      writeFileSync(join(dir, 'x.npy'), writeNpy(x, [1, SIZE, SIZE, SIZE, 1]));
      const config = { family, memory: true, classes: DEMO_CLASSES.length, ...f.config };
      execFileSync(PY, ['test/python/compile_vol3d_oracle.py', dir, JSON.stringify(config)], {
        stdio: 'pipe',
        env: { ...process.env, PYTHONPATH: 'test/python' },
      });
    }, 600_000);
    afterAll(() => {
      if (dir) rmSync(dir, { recursive: true, force: true });
      printMeasured(`compile-vol3d-torch ${family}`);
    });

    it('the oracle used every weight of ours and lacked none but the index buffers', () => {
      const report = JSON.parse(readFileSync(join(dir, 'report.json'), 'utf8'));
      expect(report.unexpected).toEqual([]);
      expect(report.missing.every((k: string) => k.endsWith('relative_position_index'))).toBe(true);
    });

    for (const memory of [false, true]) {
      const name = memory ? 'MAM' : 'SAM';
      it(`${name}: logits equal the oracle's ≤ 1e-5 relative`, async () => {
        const { model } = compileDoc(f.doc(memory), 1);
        try {
          const loaded = loadWeights(model, weights);
          expect(loaded.ok).toBe(true);
          const input = tf.tensor(x, [1, SIZE, SIZE, SIZE, 1]) as unknown as tf.Tensor4D;
          const logits = model.predict(input);
          const want = npy(memory ? 'logits.npy' : 'logits_nomem.npy');
          expect(logits.shape).toEqual(want.shape);
          const err = record(
            `${family} ${name} wasm`,
            relErr(await logits.data(), want.data as Float32Array),
          );
          expect(err).toBeLessThanOrEqual(1e-5);
          tf.dispose([input, logits]);
        } finally {
          model.dispose();
        }
      }, 600_000);
    }

    it('the reference state dict imports by name with `mam import` (index buffers skipped) and loads into the MAM preset', () => {
      const out = join(dir, 'imported.safetensors');
      const r = spawnSync(
        process.execPath,
        [
          'bin/mam.js',
          'import',
          `presets/${family}-mam-demo.json`,
          join(dir, 'reference.safetensors'),
          '--out',
          out,
          '--json',
        ],
        { encoding: 'utf8' },
      );
      expect(r.stderr).toBe('');
      expect(r.status).toBe(0);
      const report = JSON.parse(r.stdout);
      const blocks = family === 'swinunetr' ? 8 : 14; // attention blocks, one index buffer each
      expect(report.matched).toHaveLength(family === 'swinunetr' ? 151 : 232);
      expect(report.skipped).toHaveLength(blocks);
      expect(report.skipped.every((k: string) => k.endsWith('attn.relative_position_index'))).toBe(
        true,
      );
      expect([report.missing, report.unexpected, report.wrongShape]).toEqual([[], [], []]);
      const { model } = compileDoc(f.doc(true), 3);
      try {
        expect(loadWeights(model, new Uint8Array(readFileSync(out)))).toEqual({
          ok: true,
          loaded: report.matched.length,
        });
        const ours = readSafetensors(weights);
        let differing = 0;
        for (const [k, t] of model.stateDict()) {
          const a = t.dataSync();
          const b = toFloat32(ours.tensors.get(k)!);
          for (let i = 0; i < a.length; i++) if (a[i] !== b[i]) differing++;
          t.dispose();
        }
        expect(differing).toBe(0);
      } finally {
        model.dispose();
      }
    });

    it('the memory path matters: the oracle with memory off differs', () => {
      const on = npy('logits.npy').data as Float32Array;
      const off = npy('logits_nomem.npy').data as Float32Array;
      expect(record(`${family} MAM vs memory off`, relErr(on, off))).toBeGreaterThan(1e-3);
    });
  });
}
