/**
 * The run store in IndexedDB, which every browser has, in pages and workers
 * alike. Its own database (not the autosave's), one object store keyed by
 * run id; a put is one transaction, so a reload in the middle of a save
 * leaves the previous record whole.
 */
import {
  asRunRecord,
  summariseRun,
  unreadableRun,
  type RunRecord,
  type RunStore,
  type RunSummary,
} from './run-store.ts';

export const RUNS_DB = 'mam-studio-runs';
const STORE = 'runs';

/** An error that names the database, for messages such as "IndexedDB mam-studio-runs: …". */
const failure = (e: DOMException | null, what: string) =>
  new Error(`IndexedDB ${RUNS_DB}: ${e?.message || what}`);

function openDb(): Promise<IDBDatabase> {
  return new Promise((resolve, reject) => {
    const req = indexedDB.open(RUNS_DB, 1);
    req.onupgradeneeded = () => req.result.createObjectStore(STORE, { keyPath: 'id' });
    req.onsuccess = () => resolve(req.result);
    req.onerror = () => reject(failure(req.error, 'it cannot be opened'));
    req.onblocked = () => reject(failure(null, 'another tab holds an older version open'));
  });
}

export class IndexedDbRunStore implements RunStore {
  private db: Promise<IDBDatabase> | undefined;

  private transact<T>(
    mode: IDBTransactionMode,
    op: (s: IDBObjectStore) => IDBRequest<T>,
  ): Promise<T> {
    this.db ??= openDb();
    const db = this.db;
    return db.then(
      (d) =>
        new Promise<T>((resolve, reject) => {
          const tx = d.transaction(STORE, mode);
          const req = op(tx.objectStore(STORE));
          tx.oncomplete = () => resolve(req.result);
          tx.onerror = () => reject(failure(tx.error, 'the write was refused'));
          tx.onabort = () => reject(failure(tx.error, 'the write was aborted'));
        }),
      (e: unknown) => {
        this.db = undefined; // try again next time
        throw e;
      },
    );
  }

  async put(record: RunRecord): Promise<void> {
    await this.transact('readwrite', (s) => s.put(record));
  }

  async get(id: string): Promise<RunRecord | undefined> {
    const v = await this.transact('readonly', (s) => s.get(id) as IDBRequest<unknown>);
    if (v === undefined) return undefined;
    const r = asRunRecord(v);
    if (typeof r === 'string') throw new Error(r);
    return r;
  }

  async delete(id: string): Promise<void> {
    await this.transact('readwrite', (s) => s.delete(id));
  }

  async list(): Promise<RunSummary[]> {
    const all = await this.transact('readonly', (s) => s.getAll() as IDBRequest<unknown[]>);
    return all.map((v) => {
      const r = asRunRecord(v);
      const id = String((v as { id?: unknown })?.id ?? '?');
      return typeof r === 'string' ? unreadableRun(id, r) : summariseRun(r);
    });
  }
}

/** IndexedDB where the scope has it, else memory (and a sentence saying runs will not survive). */
export function hasIndexedDb(): boolean {
  return typeof indexedDB !== 'undefined';
}
