/**
 * The browser's run store: IndexedDB, which every browser has in pages and
 * workers alike, else memory (runs then do not survive a reload). OPFS
 * (run-store-opfs.ts) is the other implementation, chosen with
 * `{ kind: 'opfs' }` where the scope has it.
 */
import { hasIndexedDb, IndexedDbRunStore } from './run-store-idb.ts';
import { OpfsRunStore, opfsRoot } from './run-store-opfs.ts';
import { MemoryRunStore, type RunStore } from './run-store.ts';

export function openBrowserRunStore(opts: { kind?: 'idb' | 'opfs' } = {}): RunStore {
  const root = opts.kind === 'opfs' ? opfsRoot() : undefined;
  if (root) return new OpfsRunStore(root);
  return hasIndexedDb() ? new IndexedDbRunStore() : new MemoryRunStore();
}
