/** Autosave of the open graph to IndexedDB (one record), restored on reload. */
const DB_NAME = 'mam-studio';
const STORE = 'autosave';
const KEY = 'current';

function openDb(): Promise<IDBDatabase> {
  return new Promise((resolve, reject) => {
    const req = indexedDB.open(DB_NAME, 1);
    req.onupgradeneeded = () => req.result.createObjectStore(STORE);
    req.onsuccess = () => resolve(req.result);
    req.onerror = () => reject(req.error);
  });
}

async function run<T>(
  mode: IDBTransactionMode,
  op: (s: IDBObjectStore) => IDBRequest<T>,
): Promise<T> {
  const db = await openDb();
  try {
    return await new Promise<T>((resolve, reject) => {
      const tx = db.transaction(STORE, mode);
      const req = op(tx.objectStore(STORE));
      tx.oncomplete = () => resolve(req.result);
      tx.onerror = () => reject(tx.error);
      tx.onabort = () => reject(tx.error);
    });
  } finally {
    db.close();
  }
}

/** The autosaved graph file text, if any. Never throws: a broken store just means no autosave. */
export async function readAutosave(): Promise<string | undefined> {
  try {
    const v = await run('readonly', (s) => s.get(KEY) as IDBRequest<unknown>);
    return typeof v === 'string' ? v : undefined;
  } catch {
    return undefined;
  }
}

export async function writeAutosave(text: string): Promise<void> {
  await run('readwrite', (s) => s.put(text, KEY));
}

/** A debounced writer; `flush()` writes what is pending now. */
export function autosaver(delayMs = 300) {
  let timer: ReturnType<typeof setTimeout> | undefined;
  let pending: string | undefined;
  let last: Promise<void> = Promise.resolve();
  const flush = (): Promise<void> => {
    if (timer) clearTimeout(timer);
    timer = undefined;
    if (pending !== undefined) {
      const text = pending;
      pending = undefined;
      last = last.then(() => writeAutosave(text)).catch((e) => console.warn('autosave failed', e));
    }
    return last;
  };
  return {
    save(text: string) {
      pending = text;
      if (timer) clearTimeout(timer);
      timer = setTimeout(() => void flush(), delayMs);
    },
    flush,
  };
}
