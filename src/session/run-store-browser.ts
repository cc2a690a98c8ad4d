/**
 * The browser's run store: OPFS (run-store-opfs.ts) where the scope has it,
 * with IndexedDB (run-store-idb.ts) as the fallback where it does not; where
 * neither is, memory (runs then do not survive a reload). With OPFS, a run
 * an earlier mam-studio kept in IndexedDB is still read (and deleted with
 * the current run), so an update loses nothing.
 */
import { hasIndexedDb, IndexedDbRunStore } from './run-store-idb.ts';
import { OpfsRunStore, opfsRoot } from './run-store-opfs.ts';
import { browserEstimate, QuotaGuardStore } from './run-store-quota.ts';
import { MemoryRunStore, type RunRecord, type RunStore, type RunSummary } from './run-store.ts';

/** Writes go to `primary`; a record it lacks is looked up in `older`. */
export class LayeredRunStore implements RunStore {
  constructor(
    private readonly primary: RunStore,
    private readonly older: RunStore,
  ) {}

  put(record: RunRecord): Promise<void> {
    return this.primary.put(record);
  }

  async get(id: string): Promise<RunRecord | undefined> {
    return (await this.primary.get(id)) ?? (await this.older.get(id));
  }

  async delete(id: string): Promise<void> {
    await this.primary.delete(id);
    await this.older.delete(id);
  }

  /** Both stores' runs; where both hold an id, the primary's (as get reads it). */
  async list(): Promise<RunSummary[]> {
    const primary = await this.primary.list();
    const ids = new Set(primary.map((r) => r.id));
    const older = await this.older.list().catch(() => []);
    return [...primary, ...older.filter((r) => !ids.has(r.id))];
  }
}

/** A store chosen once a promise settles (OPFS's root may be refused, e.g. in private windows). */
class ChosenRunStore implements RunStore {
  constructor(private readonly chosen: Promise<RunStore>) {}
  async put(record: RunRecord): Promise<void> {
    return (await this.chosen).put(record);
  }
  async get(id: string): Promise<RunRecord | undefined> {
    return (await this.chosen).get(id);
  }
  async delete(id: string): Promise<void> {
    return (await this.chosen).delete(id);
  }
  async list(): Promise<RunSummary[]> {
    return (await this.chosen).list();
  }
}

/** The browser's store, refusing a write the storage quota would not take (run-store-quota.ts). */
export function openBrowserRunStore(): RunStore {
  return new QuotaGuardStore(chooseBrowserRunStore(), browserEstimate);
}

function chooseBrowserRunStore(): RunStore {
  const root = opfsRoot();
  const idb = hasIndexedDb() ? new IndexedDbRunStore() : undefined;
  const fallback = idb ?? new MemoryRunStore();
  if (!root) return fallback;
  const opfs = new OpfsRunStore(root);
  const withOlder = idb ? new LayeredRunStore(opfs, idb) : opfs;
  return new ChosenRunStore(
    root.then(
      () => withOlder,
      () => fallback,
    ),
  );
}
