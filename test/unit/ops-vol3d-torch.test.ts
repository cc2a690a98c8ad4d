/**
 * The 3D Swin block pair with memory (src/ops/vol3d-block.ts) against a
 * float64 PyTorch oracle written from 3D-MAM-SPEC.md §c.3–c.7
 * (test/python/ops_swin3d_oracle.py): SwinUNETR's per-axis clamped, padded
 * windows with the top-left block of the 7³ bias index, and nnFormer's
 * cubic windows with its non-injective index; ≤ 1e-5 relative on cpu and
 * wasm (started as the app starts it: the attention's products by our
 * strided kernel), with the attention over the whole window batch and one
 * window a chunk. The memory path matters: block 1 without memory differs.
 */
import * as tf from '#tfjs';
import { execFileSync } from 'node:child_process';
import { mkdtempSync, readFileSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, beforeAll, expect, it } from 'vitest';
import { initBackend } from '../../src/backend/index.ts';
import {
  readSafetensors,
  toFloat32,
  type SafetensorsFile,
} from '../../src/compile/io/safetensors.ts';
import {
  nnformerIndex3d,
  nnformerWindows3d,
  swinIndex3d,
  swinWindows3d,
  type Triple,
} from '../../src/graph/geometry3d.ts';
import { swin3dBlock, type Block3dWeights } from '../../src/ops/vol3d-block.ts';
import type { Vol } from '../../src/ops/vol3d.ts';
import { relErr } from '../reference/math.ts';
import { printMeasured, record } from '../reference/harness.ts';
import { describeOracle, venvPython as PY } from './data-oracle.ts';

interface Case {
  name: string;
  flavour: 'swinunetr' | 'nnformer';
  grid: Triple;
  C: number;
  heads: number;
  window: number;
  rows: number;
}

describeOracle('3D Swin block oracle (PyTorch, from the spec)', () => {
  let file: SafetensorsFile;
  let cases: Case[];
  beforeAll(() => {
    const dir = mkdtempSync(join(tmpdir(), 'mam-swin3d-oracle-'));
    try {
      execFileSync(PY, ['test/python/ops_swin3d_oracle.py', dir], { stdio: 'pipe' });
      file = readSafetensors(new Uint8Array(readFileSync(join(dir, 'swin3d_oracle.safetensors'))));
    } finally {
      rmSync(dir, { recursive: true, force: true });
    }
    cases = JSON.parse(file.metadata.config);
  });
  afterAll(async () => {
    printMeasured('ops-vol3d-torch');
    await tf.setBackend('cpu');
  });

  const get = (name: string): tf.Tensor => {
    const t = file.tensors.get(name);
    if (!t) throw new Error(`oracle file lacks ${name}`);
    return tf.tensor(toFloat32(t), t.shape);
  };
  const data = (name: string) => toFloat32(file.tensors.get(name)!);
  /** Linear `(out, in)` → ops `[in, out]`. */
  const lin = (p: string) => ({
    weight: tf.tidy(() => tf.transpose(get(`${p}.weight`))) as tf.Tensor2D,
    bias: get(`${p}.bias`) as tf.Tensor1D,
  });
  const weights = (p: string): Block3dWeights => ({
    norm1: {
      weight: get(`${p}norm1.weight`) as tf.Tensor1D,
      bias: get(`${p}norm1.bias`) as tf.Tensor1D,
    },
    qkv: lin(`${p}attn.qkv`),
    proj: lin(`${p}attn.proj`),
    table: get(`${p}attn.relative_position_bias_table`) as tf.Tensor2D,
    norm2: {
      weight: get(`${p}norm2.weight`) as tf.Tensor1D,
      bias: get(`${p}norm2.bias`) as tf.Tensor1D,
    },
    fc1: lin(`${p}fc1`),
    fc2: lin(`${p}fc2`),
  });

  for (const backend of ['cpu', 'wasm'] as const)
    it(`block pair with memory on ${backend}: SwinUNETR and nnFormer, whole and one window a chunk`, async () => {
      await initBackend(backend);
      // chunkBytes 1: the attention runs one window (of both samples) at a time
      for (const c of cases)
        for (const chunkBytes of [undefined, 1]) {
          const run = chunkBytes ? ' chunked' : '';
          const before = tf.memory().numTensors;
          const geo = c.flavour === 'nnformer' ? nnformerWindows3d : swinWindows3d;
          const w0 = geo(c.grid, c.window, 0);
          const w1 = geo(c.grid, c.window, Math.floor(c.window / 2));
          const index =
            c.flavour === 'nnformer' ? nnformerIndex3d(w1.window[0]) : swinIndex3d(c.window);
          expect(index.rows).toBe(c.rows);
          const p0 = weights(`${c.name}.b0.`);
          const p1 = weights(`${c.name}.b1.`);
          const x = get(`${c.name}.x`) as Vol;
          const opts = { heads: c.heads, index, ...(chunkBytes ? { chunkBytes } : {}) };
          const b0 = swin3dBlock(x, p0, { ...opts, windows: w0, withMemoryOut: true });
          const b1 = swin3dBlock(b0.out, p1, {
            ...opts,
            windows: w1,
            memory: b0.memory,
            withMemoryOut: true,
          });
          const sam = swin3dBlock(b0.out, p1, { ...opts, windows: w1 });
          const err = (t: tf.Tensor, ref: string) =>
            record(
              `${backend}${run} ${c.name} ${ref}`,
              relErr(t.dataSync(), data(`${c.name}.${ref}`)),
            );
          expect(err(b0.out, 'y0')).toBeLessThanOrEqual(1e-5);
          expect(err(b0.memory!, 'm0')).toBeLessThanOrEqual(1e-5);
          expect(err(b1.out, 'y1')).toBeLessThanOrEqual(1e-5);
          expect(err(b1.memory!, 'm1')).toBeLessThanOrEqual(1e-5);
          expect(err(sam.out, 'y1_sam')).toBeLessThanOrEqual(1e-5);
          // the memory path matters: SAM block 1 is far from MAM block 1
          const effect = relErr(sam.out.dataSync(), data(`${c.name}.y1`));
          record(`${backend}${run} ${c.name} SAM vs MAM block 1 (memory effect)`, effect);
          expect(effect).toBeGreaterThan(1e-3);
          tf.dispose([x, b0.out, b0.memory!, b1.out, b1.memory!, sam.out]);
          tf.dispose(
            Object.values(p0).flatMap((v) => (v instanceof tf.Tensor ? [v] : Object.values(v))),
          );
          tf.dispose(
            Object.values(p1).flatMap((v) => (v instanceof tf.Tensor ? [v] : Object.values(v))),
          );
          expect(tf.memory().numTensors).toBe(before);
        }
    });

  for (const backend of ['cpu', 'wasm'] as const)
    it(`gradients of the pair, through the memory into block 0, on ${backend}`, async () => {
      await initBackend(backend);
      for (const c of cases) {
        const geo = c.flavour === 'nnformer' ? nnformerWindows3d : swinWindows3d;
        const w0 = geo(c.grid, c.window, 0);
        const w1 = geo(c.grid, c.window, Math.floor(c.window / 2));
        const index =
          c.flavour === 'nnformer' ? nnformerIndex3d(w1.window[0]) : swinIndex3d(c.window);
        const p0 = weights(`${c.name}.b0.`);
        const p1 = weights(`${c.name}.b1.`);
        const x = get(`${c.name}.x`) as Vol;
        const g = get(`${c.name}.g`);
        const loss = (
          xx: tf.Tensor,
          t0: tf.Tensor,
          t1: tf.Tensor,
          q0: tf.Tensor,
          q1: tf.Tensor,
        ) => {
          const b0 = swin3dBlock(
            xx as Vol,
            { ...p0, table: t0 as tf.Tensor2D, qkv: { ...p0.qkv, weight: q0 as tf.Tensor2D } },
            { heads: c.heads, windows: w0, index, withMemoryOut: true },
          );
          const b1 = swin3dBlock(
            b0.out,
            { ...p1, table: t1 as tf.Tensor2D, qkv: { ...p1.qkv, weight: q1 as tf.Tensor2D } },
            { heads: c.heads, windows: w1, index, memory: b0.memory },
          );
          return tf.sum(tf.mul(b1.out, g));
        };
        const grads = tf.grads(loss)([x, p0.table, p1.table, p0.qkv.weight, p1.qkv.weight]);
        const names = [
          'grad.x',
          'grad.b0.attn.relative_position_bias_table',
          'grad.b1.attn.relative_position_bias_table',
          'grad.b0.attn.qkv.weight',
          'grad.b1.attn.qkv.weight',
        ];
        names.forEach((name, i) => {
          // qkv weights: ops layout [in, out] is the transpose of torch's
          const ours = i >= 3 ? tf.tidy(() => tf.transpose(grads[i])) : grads[i];
          const e = record(
            `${backend} ${c.name} ${name}`,
            relErr(ours.dataSync(), data(`${c.name}.${name}`)),
          );
          expect(e, `${c.name} ${name}`).toBeLessThanOrEqual(1e-4);
          if (ours !== grads[i]) ours.dispose();
        });
        tf.dispose([x, g, ...grads]);
        tf.dispose(
          Object.values(p0).flatMap((v) => (v instanceof tf.Tensor ? [v] : Object.values(v))),
        );
        tf.dispose(
          Object.values(p1).flatMap((v) => (v instanceof tf.Tensor ? [v] : Object.values(v))),
        );
      }
    });
});
