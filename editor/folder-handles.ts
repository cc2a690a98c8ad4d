/**
 * Folders opened through the File System Access picker, kept across reloads:
 * a FileSystemDirectoryHandle survives in IndexedDB (not its permission), so
 * after a reload a run trained on a folder offers "Reopen <folder>", which
 * asks to read it again on the user's click. Handles are kept by the data
 * source they read as ("NIfTI folder scans"), the name a kept run gives its
 * data (RestoreReply.dataSource); the last folder opened under a name wins,
 * and the session's data fingerprint still decides whether the run resumes
 * on what is read. Where the picker or IndexedDB is missing, nothing is kept
 * and the panel says which folder to open, as before. Deleting the last
 * stored run that names a source forgets its folder (runs-controller.ts).
 */
import { filesFromHandle, type DirectoryHandle } from './data-pick.ts';
import { onStore } from './idb-store.ts';
import type { PickedFile } from './worker/api.ts';

const DB = 'mam-studio-folders';
const STORE = 'handles';

/** Keeps the handle of a folder just read as `source`; a browser that cannot store it keeps nothing. */
export async function keepFolder(source: string, handle: DirectoryHandle): Promise<void> {
  try {
    await onStore(DB, STORE, 'readwrite', (s) => s.put(handle, source));
  } catch {
    // No IndexedDB, or a handle it cannot clone: the panel names the folder instead.
  }
}

/** The handle of the folder last read as `source`, if one is kept. */
export async function keptFolder(source: string): Promise<DirectoryHandle | undefined> {
  try {
    const h: unknown = await onStore(DB, STORE, 'readonly', (s) => s.get(source));
    return h && typeof h === 'object' && 'values' in h ? (h as DirectoryHandle) : undefined;
  } catch {
    return undefined;
  }
}

/** Forgets the folder kept as `source` (its last run was deleted); nothing kept, nothing to do. */
export async function forgetFolder(source: string): Promise<void> {
  try {
    await onStore(DB, STORE, 'readwrite', (s) => s.delete(source));
  } catch {
    // No IndexedDB: nothing was kept.
  }
}

export type ReadFolder = { ok: true; files: PickedFile[] } | { ok: false; message: string };

/**
 * A kept folder's files: permission to read it is asked first (the browser
 * asks the user; call it from a click), then its files are walked. A
 * refusal, or a folder moved or deleted since, answers why in one line.
 */
export async function readKeptFolder(handle: DirectoryHandle): Promise<ReadFolder> {
  const name = handle.name;
  const again = 'open it with Open folder… to resume the run';
  try {
    const state = handle.requestPermission
      ? await handle.requestPermission({ mode: 'read' })
      : 'granted';
    if (state !== 'granted')
      return { ok: false, message: `Reading the folder ${name} was not allowed: ${again}.` };
    return { ok: true, files: await filesFromHandle(handle) };
  } catch (e) {
    const why = e instanceof Error ? e.message : String(e);
    return {
      ok: false,
      message: `The folder ${name} could not be read again (${why}); it may have been moved or deleted: ${again}.`,
    };
  }
}
