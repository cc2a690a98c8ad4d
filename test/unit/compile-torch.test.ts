/**
 * Differential test against PyTorch: test/python/compile_swin_unet_oracle.py
 * builds the same small Swin-Unet-MAM from MAM-SPEC.md (its own code, module
 * names = our node ids + weight names), with ISTS chains and with an STS
 * chain across a memory merging and a memory expanding, and writes its state
 * dict, an input and the logits of both memory layouts. We import the state
 * dict by name (0 missing, 0 unexpected, 0 wrong shape), run the compiled
 * graph on the cpu backend and compare ≤ 1e-4 relative to max|torch|.
 * Skipped when .venv/bin/python is absent.
 */
import * as tf from '#tfjs';
import { execFileSync } from 'node:child_process';
import { mkdtempSync, readFileSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, beforeAll, expect, it } from 'vitest';
import { readNpy } from '../../src/compile/io/npy.ts';
import { formatImportReport, importStateDict } from '../../src/compile/weights.ts';
import { printMeasured, record } from '../reference/harness.ts';
import { relErr } from '../reference/math.ts';
import { compileDoc, smallMam, SMALL } from './compile-fixtures.ts';
import { describeOracle, venvPython as PY } from './data-oracle.ts';

const CONFIG = { ...SMALL, batch: 2, mergeMode: 'conv', seed: 1234 };

describeOracle('PyTorch Swin-Unet-MAM oracle', () => {
  let dir = '';
  const read = (name: string) => new Uint8Array(readFileSync(join(dir, name)));

  beforeAll(async () => {
    await tf.setBackend('cpu');
    dir = mkdtempSync(join(tmpdir(), 'mam-compile-oracle-'));
    execFileSync(PY, ['test/python/compile_swin_unet_oracle.py', dir, JSON.stringify(CONFIG)], {
      stdio: 'pipe',
    });
  });
  afterAll(() => {
    if (dir) rmSync(dir, { recursive: true, force: true });
    printMeasured('compile-torch');
  });

  for (const wiring of ['ists', 'sts'] as const) {
    for (const layout of ['window', 'spatial'] as const) {
      it(`${wiring.toUpperCase()}, ${layout} layout: imports the state dict by name and matches the torch logits ≤ 1e-4`, () => {
        const { model } = compileDoc(smallMam(wiring, layout, 'conv'), 99);
        const report = importStateDict(model, read(`${wiring}.safetensors`));
        console.log(`compile-torch ${wiring} ${layout}: ${formatImportReport(report)}`);
        expect(report.missing).toEqual([]);
        expect(report.unexpected).toEqual([]);
        expect(report.wrongShape).toEqual([]);
        expect(report.matched.length).toBe(model.weights.size);
        if (wiring === 'sts') expect(report.matched).toContain('memory_merging.0.reduction.weight');
        const xin = readNpy(read(`${wiring}_x.npy`));
        const want = readNpy(read(`${wiring}_${layout}_logits.npy`));
        expect(xin.shape).toEqual([
          CONFIG.batch,
          CONFIG.imageSize,
          CONFIG.imageSize,
          CONFIG.inChannels,
        ]);
        const x = tf.tensor4d(
          xin.data as Float32Array,
          xin.shape as [number, number, number, number],
        );
        const logits = model.predict(x);
        expect(logits.shape).toEqual(want.shape);
        const err = record(
          `logits ${wiring} ${layout}`,
          relErr(logits.dataSync(), want.data as Float32Array),
        );
        expect(err).toBeLessThanOrEqual(1e-4);
        tf.dispose([x, logits]);
        model.dispose();
      });
    }
  }

  it('the two layouts give different torch logits (the shifted chains make the difference)', () => {
    for (const wiring of ['ists', 'sts']) {
      const a = readNpy(read(`${wiring}_window_logits.npy`)).data as Float32Array;
      const b = readNpy(read(`${wiring}_spatial_logits.npy`)).data as Float32Array;
      expect(relErr(a, b), wiring).toBeGreaterThan(1e-3);
    }
  });
});
