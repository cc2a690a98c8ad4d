/**
 * Autosave of the open graph, restored on reload. Edits are written to
 * IndexedDB (one record) a moment after they stop. A page being closed,
 * reloaded or hidden gets no moment: an IndexedDB write started then may
 * never finish, so the latest text not yet safely in IndexedDB is also
 * written to localStorage synchronously. Each copy carries the time of the
 * edit it holds; on load the newer copy wins.
 */
import { onStore } from './idb-store.ts';

const DB_NAME = 'mam-studio';
const STORE = 'autosave';
const KEY = 'current';
/** The synchronous copy written when the page goes away. */
export const WRITE_AHEAD_KEY = 'mam-studio:autosave';

export interface SavedGraph {
  text: string;
  /** When the edit it holds was made (ms since the epoch). */
  savedAt: number;
}

const run = <T>(mode: IDBTransactionMode, op: (s: IDBObjectStore) => IDBRequest<T>) =>
  onStore(DB_NAME, STORE, mode, op);

/** A stored record: this format, or the plain text older versions wrote (oldest of all). */
function asSaved(v: unknown): SavedGraph | undefined {
  if (typeof v === 'string') return { text: v, savedAt: 0 };
  const r = v as Partial<SavedGraph> | null;
  return r && typeof r.text === 'string' && typeof r.savedAt === 'number'
    ? { text: r.text, savedAt: r.savedAt }
    : undefined;
}

function readWriteAhead(): SavedGraph | undefined {
  try {
    const raw = localStorage.getItem(WRITE_AHEAD_KEY);
    return raw ? asSaved(JSON.parse(raw)) : undefined;
  } catch {
    return undefined;
  }
}

/** Writes the synchronous copy; false when storage refuses it (full, disabled). */
function writeWriteAhead(saved: SavedGraph): boolean {
  try {
    localStorage.setItem(WRITE_AHEAD_KEY, JSON.stringify(saved));
    return true;
  } catch {
    return false;
  }
}

/** The autosaved graph file text, if any. Never throws: a broken store just means no autosave. */
export async function readAutosave(): Promise<string | undefined> {
  let stored: SavedGraph | undefined;
  try {
    stored = asSaved(await run('readonly', (s) => s.get(KEY) as IDBRequest<unknown>));
  } catch {
    stored = undefined;
  }
  const ahead = readWriteAhead();
  const newest = ahead && (!stored || ahead.savedAt > stored.savedAt) ? ahead : stored;
  return newest?.text;
}

export async function writeAutosave(saved: SavedGraph): Promise<void> {
  await run('readwrite', (s) => s.put(saved, KEY));
}

/**
 * A debounced writer; `flush()` writes what is pending now, and
 * `flushOnLeave()` (for pagehide) also writes it synchronously.
 */
export function autosaver(delayMs = 300) {
  let timer: ReturnType<typeof setTimeout> | undefined;
  let pending: SavedGraph | undefined;
  /** The newest text handed in, and the newest known to be in IndexedDB. */
  let latest: SavedGraph | undefined;
  let durable = -1;
  let last: Promise<void> = Promise.resolve();
  const flush = (): Promise<void> => {
    if (timer) clearTimeout(timer);
    timer = undefined;
    if (pending !== undefined) {
      const saved = pending;
      pending = undefined;
      last = last
        .then(() => writeAutosave(saved))
        .then(() => void (durable = Math.max(durable, saved.savedAt)))
        .catch((e) => console.warn('autosave failed', e));
    }
    return last;
  };
  return {
    save(text: string) {
      // Strictly increasing, so two edits in one millisecond still order.
      const savedAt = Math.max(Date.now(), (latest?.savedAt ?? 0) + 1);
      pending = latest = { text, savedAt };
      if (timer) clearTimeout(timer);
      timer = setTimeout(() => void flush(), delayMs);
    },
    flush,
    flushOnLeave() {
      if (latest && latest.savedAt > durable) writeWriteAhead(latest);
      void flush();
    },
  };
}

/** Flushes the autosave when the page is hidden or goes away; returns the unbinder. */
export function flushOnLeave(win: Window, saver: { flushOnLeave(): void }): () => void {
  const onHide = () => saver.flushOnLeave();
  const onVisibility = () => {
    if (win.document.visibilityState === 'hidden') saver.flushOnLeave();
  };
  win.addEventListener('pagehide', onHide);
  win.document.addEventListener('visibilitychange', onVisibility);
  return () => {
    win.removeEventListener('pagehide', onHide);
    win.document.removeEventListener('visibilitychange', onVisibility);
  };
}
