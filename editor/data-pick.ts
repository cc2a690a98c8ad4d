/**
 * The files of a folder the user picked or dropped, by their paths relative
 * to it, as the worker reads them (editor/worker: openFolder). Nothing here
 * reads a file's bytes: File objects go to the worker, which reads them.
 */
import type { PickedFile } from './worker/api.ts';

/** `<input webkitdirectory>`: each File's webkitRelativePath starts with the folder's name. */
export function filesFromInput(list: FileList): PickedFile[] {
  return [...list].map((file) => ({ path: file.webkitRelativePath || file.name, file }));
}

/** A folder's handle (File System Access API), as much of it as the editor uses. */
export interface DirectoryHandle {
  kind: 'directory';
  name: string;
  values(): AsyncIterable<DirectoryHandle | FileHandle>;
  /** Asks the user again for a handle kept across a reload (needs a click); absent outside Chromium. */
  requestPermission?(d: { mode: 'read' }): Promise<PermissionState>;
}
interface FileHandle {
  kind: 'file';
  name: string;
  getFile(): Promise<File>;
}

/** A folder from the File System Access API (`showDirectoryPicker`), walked to its files. */
export async function filesFromHandle(
  dir: DirectoryHandle,
  prefix = dir.name,
): Promise<PickedFile[]> {
  const out: PickedFile[] = [];
  for await (const h of dir.values()) {
    const path = `${prefix}/${h.name}`;
    if (h.kind === 'file') out.push({ path, file: await h.getFile() });
    else out.push(...(await filesFromHandle(h, path)));
  }
  return out;
}

/** The picker where the browser has it (Chrome, Edge), undefined elsewhere. */
export function directoryPicker(): (() => Promise<DirectoryHandle>) | undefined {
  const w = window as unknown as { showDirectoryPicker?: () => Promise<DirectoryHandle> };
  return w.showDirectoryPicker ? () => w.showDirectoryPicker!() : undefined;
}

function entryFile(e: FileSystemFileEntry): Promise<File> {
  return new Promise((resolve, reject) => e.file(resolve, reject));
}

async function entryFiles(entry: FileSystemEntry, path: string): Promise<PickedFile[]> {
  if (entry.isFile) return [{ path, file: await entryFile(entry as FileSystemFileEntry) }];
  const reader = (entry as FileSystemDirectoryEntry).createReader();
  const out: PickedFile[] = [];
  // readEntries answers in batches until an empty one.
  for (;;) {
    const batch = await new Promise<FileSystemEntry[]>((resolve, reject) =>
      reader.readEntries(resolve, reject),
    );
    if (batch.length === 0) return out;
    for (const e of batch) out.push(...(await entryFiles(e, `${path}/${e.name}`)));
  }
}

/** A drop of a folder (walked) or of files. */
export async function filesFromDrop(dt: DataTransfer): Promise<PickedFile[]> {
  const entries = [...dt.items]
    .map((i) => i.webkitGetAsEntry())
    .filter((e): e is FileSystemEntry => !!e);
  if (entries.length === 0) return [...dt.files].map((file) => ({ path: file.name, file }));
  const out: PickedFile[] = [];
  for (const e of entries) out.push(...(await entryFiles(e, e.name)));
  return out;
}
