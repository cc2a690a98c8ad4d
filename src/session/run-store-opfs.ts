/**
 * The run store in the origin-private file system (OPFS): one folder per
 * run id, each version of the record in its own sub-folder (the record as
 * JSON, its byte arrays as files beside it), and `head.json` naming the
 * version to read. A put writes a new version completely, then replaces
 * head.json (one small file, committed whole on close), then removes the
 * old version: a reload in the middle of a save reads the previous record
 * whole. Works in pages and workers alike.
 */
import {
  asRunRecord,
  summariseRun,
  unreadableRun,
  type RunRecord,
  type RunStore,
  type RunSummary,
} from './run-store.ts';

export const RUNS_DIR = 'mam-studio-runs';

interface Writable {
  write(data: string | Uint8Array): Promise<void>;
  close(): Promise<void>;
}
interface SyncHandle {
  truncate(size: number): void;
  write(data: Uint8Array, opts: { at: number }): number;
  flush(): void;
  close(): void;
}
interface FileHandle {
  getFile(): Promise<Blob>;
  createWritable?(): Promise<Writable>;
  createSyncAccessHandle?(): Promise<SyncHandle>;
}
interface DirHandle {
  getDirectoryHandle(name: string, opts?: { create?: boolean }): Promise<DirHandle>;
  getFileHandle(name: string, opts?: { create?: boolean }): Promise<FileHandle>;
  removeEntry(name: string, opts?: { recursive?: boolean }): Promise<void>;
  keys(): AsyncIterable<string>;
}
interface StorageWithDirectory {
  getDirectory(): Promise<DirHandle>;
}

/** The OPFS root of this scope, or undefined where there is none. */
export function opfsRoot(): Promise<DirHandle> | undefined {
  const storage = (
    globalThis as unknown as { navigator?: { storage?: Partial<StorageWithDirectory> } }
  ).navigator?.storage;
  return typeof storage?.getDirectory === 'function' ? storage.getDirectory() : undefined;
}

async function writeFile(dir: DirHandle, name: string, data: Uint8Array | string): Promise<void> {
  const h = await dir.getFileHandle(name, { create: true });
  const bytes = typeof data === 'string' ? new TextEncoder().encode(data) : data;
  if (h.createWritable) {
    const w = await h.createWritable();
    await w.write(bytes);
    await w.close();
    return;
  }
  const s = await h.createSyncAccessHandle!();
  try {
    s.truncate(0);
    s.write(bytes, { at: 0 });
    s.flush();
  } finally {
    s.close();
  }
}

async function readBytes(dir: DirHandle, name: string): Promise<Uint8Array> {
  const f = await (await dir.getFileHandle(name)).getFile();
  return new Uint8Array(await f.arrayBuffer());
}

const isMissing = (e: unknown) => (e as DOMException)?.name === 'NotFoundError';

/** The record as JSON with its byte arrays taken out (and NaN/±Infinity kept, which JSON lacks). */
function encode(record: RunRecord): { json: string; blobs: Uint8Array[] } {
  const blobs: Uint8Array[] = [];
  const json = JSON.stringify(record, function (_key, value: unknown) {
    if (value instanceof Uint8Array) {
      const i = blobs.indexOf(value);
      return { $bytes: i >= 0 ? i : blobs.push(value) - 1 };
    }
    if (typeof value === 'number' && !Number.isFinite(value)) return { $number: String(value) };
    return value;
  });
  return { json, blobs };
}

function decode(json: string, blobs: (i: number) => Uint8Array): unknown {
  return JSON.parse(json, (_key, value: unknown) => {
    if (value && typeof value === 'object') {
      const v = value as { $bytes?: number; $number?: string };
      if (typeof v.$bytes === 'number') return blobs(v.$bytes);
      if (typeof v.$number === 'string') return Number(v.$number);
    }
    return value;
  });
}

export class OpfsRunStore implements RunStore {
  constructor(private readonly root: Promise<DirHandle>) {}

  private failure(e: unknown, what: string): Error {
    return new Error(`OPFS ${RUNS_DIR}: ${(e as Error)?.message || what}`);
  }

  private async runDir(id: string, create: boolean): Promise<DirHandle | undefined> {
    try {
      const runs = await (await this.root).getDirectoryHandle(RUNS_DIR, { create });
      return await runs.getDirectoryHandle(id, { create });
    } catch (e) {
      if (!create && isMissing(e)) return undefined;
      throw this.failure(e, 'it cannot be opened');
    }
  }

  async put(record: RunRecord): Promise<void> {
    const dir = (await this.runDir(record.id, true))!;
    try {
      const version = `v${Date.now().toString(36)}-${Math.random().toString(36).slice(2, 8)}`;
      const v = await dir.getDirectoryHandle(version, { create: true });
      const { json, blobs } = encode(record);
      for (let i = 0; i < blobs.length; i++) await writeFile(v, `${i}.bin`, blobs[i]);
      await writeFile(v, 'record.json', json);
      await writeFile(dir, 'head.json', JSON.stringify({ version, blobs: blobs.length }));
      for await (const name of dir.keys())
        if (name !== version && name !== 'head.json')
          await dir.removeEntry(name, { recursive: true });
    } catch (e) {
      throw this.failure(e, 'the write was refused');
    }
  }

  async get(id: string): Promise<RunRecord | undefined> {
    const dir = await this.runDir(id, false);
    return dir && this.read(dir, true);
  }

  /** The record a run folder's head names; without its byte arrays (empty in their place) unless `bytes`. */
  private async read(dir: DirHandle, bytes: boolean): Promise<RunRecord | undefined> {
    let value: unknown;
    try {
      let head: { version: string; blobs: number };
      try {
        head = JSON.parse(new TextDecoder().decode(await readBytes(dir, 'head.json'))) as {
          version: string;
          blobs: number;
        };
      } catch (e) {
        if (isMissing(e)) return undefined;
        throw e;
      }
      const v = await dir.getDirectoryHandle(head.version);
      const json = new TextDecoder().decode(await readBytes(v, 'record.json'));
      const blobs: Uint8Array[] = [];
      for (let i = 0; i < (head.blobs ?? 0); i++)
        blobs.push(bytes ? await readBytes(v, `${i}.bin`) : new Uint8Array(0));
      value = decode(json, (i) => {
        if (!blobs[i]) throw new Error(`${head.version} lacks the byte array ${i}`);
        return blobs[i];
      });
    } catch (e) {
      throw this.failure(e, 'the stored run cannot be read');
    }
    const r = asRunRecord(value);
    if (typeof r === 'string') throw new Error(r);
    return r;
  }

  async list(): Promise<RunSummary[]> {
    let runs: DirHandle;
    try {
      runs = await (await this.root).getDirectoryHandle(RUNS_DIR);
    } catch (e) {
      if (isMissing(e)) return [];
      throw this.failure(e, 'it cannot be opened');
    }
    const out: RunSummary[] = [];
    for await (const id of runs.keys()) {
      try {
        const r = await this.read(await runs.getDirectoryHandle(id), false);
        if (r) out.push(summariseRun(r));
      } catch (e) {
        out.push(unreadableRun(id, (e as Error).message));
      }
    }
    return out;
  }

  async delete(id: string): Promise<void> {
    try {
      const runs = await (await this.root).getDirectoryHandle(RUNS_DIR, { create: true });
      const dir = await runs.getDirectoryHandle(id);
      // head.json first: from then on the run is gone for every reader, however far the rest gets.
      await dir.removeEntry('head.json').catch((e: unknown) => {
        if (!isMissing(e)) throw e;
      });
      await runs.removeEntry(id, { recursive: true });
    } catch (e) {
      if (!isMissing(e)) throw this.failure(e, 'the run cannot be removed');
    }
  }
}
