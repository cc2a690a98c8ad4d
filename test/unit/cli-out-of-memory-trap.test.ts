/**
 * `mam train` when the wasm module traps for want of memory (trapInMove: a
 * real "RuntimeError: memory access out of bounds" in BackendWasm.move) in
 * step 2's forward pass: one line naming node, batch and crop, saying that mam
 * stops and to run it again (the heap may be damaged), exit 5, and the run
 * folder with step 1's checkpoint kept. The trap may leave the heap damaged:
 * this file holds no other test.
 */
import { existsSync, mkdtempSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import * as path from 'node:path';
import { afterAll, expect, it } from 'vitest';
import { EXIT_CODES } from '../../src/cli/errors.ts';
import type { Kernel } from '../../src/compile/kernels/types.ts';
import { DEMO_CLASSES } from '../../src/graph/classes.ts';
import { mamInProcess, twoStepWasmTrain } from '../helpers/mam-cli.ts';
import { kernels3d, tiny3dGraph } from '../helpers/tiny-3d.ts';
import { trapInMove } from '../helpers/wasm-trap.ts';

const dir = mkdtempSync(path.join(tmpdir(), 'mam-cli-trap-'));
afterAll(() => rmSync(dir, { recursive: true, force: true }));

it('mam train: the one line with the word to run again, exit 5; the run folder and step 1’s checkpoint stay', async () => {
  let trainingCalls = 0;
  const conv = kernels3d.get('conv3d')!;
  const kernel: Kernel = (ctx) => {
    if (ctx.params.outChannels === 4 && ctx.training && ++trainingCalls === 2) trapInMove();
    return conv(ctx);
  };
  const graph = path.join(dir, 'tiny3d-16.json');
  writeFileSync(graph, JSON.stringify(tiny3dGraph({ size: [16, 16, 16], classes: DEMO_CLASSES })));
  const run = path.join(dir, 'run');
  const r = await mamInProcess(
    twoStepWasmTrain(graph, run),
    new Map(kernels3d).set('conv3d', kernel),
  );
  expect(trainingCalls).toBe(2);
  expect(r.code).toBe(EXIT_CODES.backend);
  expect(r.stderr.trim().split('\n').at(-1)).toBe(
    'mam train: out of WebAssembly memory (4 GiB) in enc at batch 2, 16³: try batch 1 or a smaller crop' +
      " (WebAssembly's heap may be damaged: mam stops here; run it again)",
  );
  expect(r.stderr).not.toContain('internal error');
  const state = JSON.parse(readFileSync(path.join(run, 'checkpoint', 'state.json'), 'utf8')) as {
    step: number;
  };
  expect(state.step).toBe(1);
  expect(existsSync(path.join(run, 'best.safetensors'))).toBe(true);
}, 300_000);
