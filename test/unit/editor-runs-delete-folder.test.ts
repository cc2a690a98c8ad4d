// Deleting a run in the runs list forgets the folder handle kept for its
// data source once no stored run names that source any more, and keeps it
// while one still does. The runs live in the session's in-memory store (its
// own summaries carry the source); the worker, the panel and the kept
// handles are fakes, so the expectations are the handles left, by hand.
import { describe, expect, it } from 'vitest';
import { RunsController, type RunsHost } from '../../editor/runs-controller.ts';
import type { TrainClient } from '../../editor/train-client.ts';
import type { GraphDoc } from '../../src/graph/types.ts';
import { MemoryRunStore, RUN_RECORD_FORMAT, type RunRecord } from '../../src/session/run-store.ts';

const SCANS = 'NIfTI folder scans';
const PNGS = 'PNG folder slices';

function record(id: string, createdAt: number, dataSource?: string): RunRecord {
  return {
    format: RUN_RECORD_FORMAT,
    version: 1,
    id,
    graph: { nodes: [], links: [] } as unknown as GraphDoc,
    graphKey: 'k',
    weightsFingerprint: 'f',
    parameters: 1,
    ...(dataSource ? { dataSource } : {}),
    step: 0,
    runBase: 0,
    history: [],
    validations: [],
    origin: 'new',
    weights: new Uint8Array(0),
    createdAt,
    updatedAt: createdAt,
  };
}

/** A controller over `store`, its worker calls answered at once; `failing` makes every call fail. */
async function setUp(records: RunRecord[]) {
  const store = new MemoryRunStore();
  for (const r of records) await store.put(r);
  const worker = { listRuns: () => store.list(), deleteRun: (id: string) => store.delete(id) };
  const client = { call: (fn: (w: typeof worker) => unknown) => fn(worker) };
  const state = { failing: false };
  const host: RunsHost = {
    async run(_what, fn) {
      if (state.failing) return undefined;
      return fn(client as unknown as TrainClient);
    },
    opened: () => {},
    say: () => {},
    requestUpdate: () => {},
  };
  const kept = new Map<string, string>([
    [SCANS, 'handle of scans'],
    [PNGS, 'handle of slices'],
  ]);
  const forgotten: string[] = [];
  const runs = new RunsController(host, {
    forget: async (source) => {
      forgotten.push(source);
      kept.delete(source);
    },
  });
  await runs.refresh();
  return { runs, kept, forgotten, state };
}

describe('RunsController.delete and the kept folders', () => {
  it('keeps the folder while another run names its source, forgets it with the last', async () => {
    const { runs, kept, forgotten } = await setUp([
      record('a', 1, SCANS),
      record('b', 2, SCANS),
      record('c', 3, PNGS),
      record('d', 4),
    ]);
    await runs.delete('a');
    expect(runs.runs.map((r) => r.id)).toEqual(['b', 'c', 'd']);
    expect([...kept.keys()]).toEqual([SCANS, PNGS]);

    await runs.delete('d'); // a run of no folder: nothing to forget
    expect([...kept.keys()]).toEqual([SCANS, PNGS]);

    await runs.delete('b');
    expect([...kept.keys()]).toEqual([PNGS]);
    await runs.delete('c');
    expect([...kept.keys()]).toEqual([]);
    expect(forgotten).toEqual([SCANS, PNGS]);
  });

  it('a delete that fails forgets nothing', async () => {
    const { runs, kept, forgotten, state } = await setUp([record('a', 1, SCANS)]);
    state.failing = true;
    await runs.delete('a');
    expect(forgotten).toEqual([]);
    expect([...kept.keys()]).toEqual([SCANS, PNGS]);
  });
});
