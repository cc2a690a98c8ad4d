/**
 * The editor's session (in its worker) when the wasm module traps for want of
 * memory (trapInMove: a real "RuntimeError: memory access out of bounds" in
 * BackendWasm.move) in step 2's forward pass. The worker lives on after a
 * failed run, on a heap that may be damaged, so the failure's line says to
 * reload the page; the run stored at step 1 stays in the store. The trap may
 * leave the heap damaged: this file holds no other test.
 */
import { beforeAll, expect, it } from 'vitest';
import { catalogue } from '../../nodes/index.ts';
import { initBackend } from '../../src/backend/index.ts';
import { kernels } from '../../src/compile/kernels/index.ts';
import type { Kernel } from '../../src/compile/kernels/types.ts';
import { CURRENT_RUN, MemoryRunStore } from '../../src/session/run-store.ts';
import { Session } from '../../src/session/session.ts';
import { panelDefaults } from '../../src/session/settings.ts';
import type { TrainEventMessage } from '../../src/session/types.ts';
import { phantomSessionData } from '../helpers/phantom-cases.ts';
import { tinyGraph } from '../helpers/tiny-graph.ts';
import { trapInMove } from '../helpers/wasm-trap.ts';

beforeAll(async () => {
  await initBackend('wasm');
});

it('a trap in step 2: the line names node, batch and crop and says to reload the page; step 1’s run stays stored', async () => {
  let trainingCalls = 0;
  const head = kernels.get('seg-head')!;
  const kernel: Kernel = (ctx) => {
    if (ctx.training && ++trainingCalls === 2) trapInMove();
    return head(ctx);
  };
  const store = new MemoryRunStore();
  const session = new Session({
    catalogue,
    kernels: new Map(kernels).set('seg-head', kernel),
    store,
  });
  const doc = tinyGraph({ dropPath: 0 }); // 16² slices
  expect(session.compile(doc).ok).toBe(true);
  session.setData(phantomSessionData());
  const settings = { ...panelDefaults(doc), steps: 3, batchSize: 2, valEvery: 1 };
  const done = await new Promise<Extract<TrainEventMessage, { type: 'done' }>>((resolve) => {
    session.listen((e) => {
      if (e.type === 'done') resolve(e);
    });
    session.train(settings, false);
  });
  expect(trainingCalls).toBe(2);
  expect(done.reason).toBe('failed');
  expect(done.message).toBe(
    'out of WebAssembly memory (4 GiB) in output at batch 2, 16²: try batch 1 or a smaller crop' +
      " (WebAssembly's heap may be damaged: reload the page before training again; the run saved so far is kept)",
  );
  expect((await store.get(CURRENT_RUN))?.step).toBe(1);
});
