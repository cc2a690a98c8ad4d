// The storage quota around the browser's run store: a record that would not
// fit beside what is stored is refused before anything is written, and the
// record stored before stays.
import { describe, expect, it } from 'vitest';
import type { GraphDoc } from '../../src/graph/types.ts';
import { EXIT_CODES, SessionError } from '../../src/session/errors.ts';
import { QuotaGuardStore } from '../../src/session/run-store-quota.ts';
import {
  CURRENT_RUN,
  MemoryRunStore,
  RUN_RECORD_FORMAT,
  type RunRecord,
} from '../../src/session/run-store.ts';
import type { Checkpoint } from '../../src/train/checkpoint.ts';

const MB = 1_000_000;

/** A record of 2 MB weights (the checkpoint's are the same array), 1 MB optimizer state and 2 MB best weights. */
function record(step: number): RunRecord {
  const weights = new Uint8Array(2 * MB).fill(step);
  return {
    format: RUN_RECORD_FORMAT,
    version: 1,
    id: CURRENT_RUN,
    graph: { nodes: [], links: [] } as unknown as GraphDoc,
    graphKey: 'k',
    weightsFingerprint: 'f',
    parameters: 500_000,
    step,
    runBase: 0,
    history: [],
    validations: [],
    origin: `trained ${step} steps`,
    weights,
    checkpoint: { weights, optimizer: new Uint8Array(MB), state: {} } as unknown as Checkpoint,
    best: { step, meanDice: 0.5, weights: new Uint8Array(2 * MB) },
    createdAt: 0,
    updatedAt: 0,
  };
}

describe('QuotaGuardStore', () => {
  it('refuses a write that needs more than is free, naming both, and keeps the run before', async () => {
    const inner = new MemoryRunStore();
    let free = 100 * MB;
    const store = new QuotaGuardStore(inner, async () => ({
      usage: 1000 * MB - free,
      quota: 1000 * MB,
    }));
    await store.put(record(1));

    // 5 MB of arrays (the shared weights once) plus a little JSON: 4.9 MB free is too little.
    free = 4.9 * MB;
    const e = await store.put(record(2)).catch((x: unknown) => x);
    expect(e).toBeInstanceOf(SessionError);
    expect((e as SessionError).code).toBe(EXIT_CODES.cannotWrite);
    expect((e as SessionError).message).toMatch(
      /^not enough browser storage for the run: it needs 5\.0 MB, 4\.9 MB of 1000\.0 MB is free/,
    );
    expect((await inner.get(CURRENT_RUN))?.step).toBe(1);

    free = 5.1 * MB;
    await store.put(record(3));
    expect((await inner.get(CURRENT_RUN))?.step).toBe(3);
  });

  it('writes as before where the browser gives no estimate', async () => {
    const inner = new MemoryRunStore();
    const store = new QuotaGuardStore(inner, async () => undefined);
    await store.put(record(4));
    expect((await store.get(CURRENT_RUN))?.step).toBe(4);
    await store.delete(CURRENT_RUN);
    expect(await inner.get(CURRENT_RUN)).toBeUndefined();
  });
});
