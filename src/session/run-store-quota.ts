/**
 * The storage quota around a run store: a write that would not fit in what
 * the browser grants is refused before anything is written (so the store
 * never holds half a run), with a message saying how much it needs and how
 * much is free. The OPFS store writes the new version before it removes the
 * old one, so a record needs its whole size free.
 */
import { EXIT_CODES, SessionError } from './errors.ts';
import type { RunRecord, RunStore, RunSummary } from './run-store.ts';

/** Bytes used and granted, as `navigator.storage.estimate()` says. */
export interface StorageEstimate {
  usage: number;
  quota: number;
}

/** The bytes a record writes: its weight and optimizer arrays (each once) and its JSON. */
export function recordBytes(r: RunRecord): number {
  const arrays = new Set<Uint8Array>([r.weights]);
  if (r.checkpoint) {
    arrays.add(r.checkpoint.weights);
    arrays.add(r.checkpoint.optimizer);
  }
  if (r.best) arrays.add(r.best.weights);
  let n = 0;
  for (const a of arrays) n += a.byteLength;
  const rest = { ...r, weights: undefined, checkpoint: r.checkpoint?.state, best: undefined };
  return n + new TextEncoder().encode(JSON.stringify(rest)).byteLength;
}

const mb = (n: number) => `${(n / 1e6).toFixed(1)} MB`;

export class QuotaGuardStore implements RunStore {
  constructor(
    private readonly store: RunStore,
    private readonly estimate: () => Promise<StorageEstimate | undefined>,
  ) {}

  async put(record: RunRecord): Promise<void> {
    const e = await this.estimate();
    if (e) {
      const need = recordBytes(record);
      const free = e.quota - e.usage;
      if (need > free)
        throw new SessionError(
          `not enough browser storage for the run: it needs ${mb(need)}, ${mb(Math.max(0, free))} of ${mb(e.quota)} is free; the run kept before stays`,
          EXIT_CODES.cannotWrite,
        );
    }
    return this.store.put(record);
  }

  get(id: string): Promise<RunRecord | undefined> {
    return this.store.get(id);
  }

  delete(id: string): Promise<void> {
    return this.store.delete(id);
  }

  list(): Promise<RunSummary[]> {
    return this.store.list();
  }
}

/** The scope's storage estimate (a page's or a worker's), or undefined where there is none. */
export async function browserEstimate(): Promise<StorageEstimate | undefined> {
  const storage = (
    globalThis as unknown as {
      navigator?: { storage?: { estimate?: () => Promise<{ usage?: number; quota?: number }> } };
    }
  ).navigator?.storage;
  if (!storage?.estimate) return undefined;
  try {
    const e = await storage.estimate();
    return e.quota === undefined ? undefined : { usage: e.usage ?? 0, quota: e.quota };
  } catch {
    return undefined;
  }
}
