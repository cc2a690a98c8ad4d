// A folder handle kept across a reload, read again: permission is asked
// first (the answer the browser gives decides), then the folder is walked to
// its files by their paths under the folder's name; a refusal or a folder
// gone since answers one line naming the folder. Fake handles stand in for
// the File System Access API, which Node lacks (the e2e test
// editor-folder-reopen drives the browser's own).
import { describe, expect, it } from 'vitest';
import type { DirectoryHandle } from '../../editor/data-pick.ts';
import { readKeptFolder } from '../../editor/folder-handles.ts';

type Tree = { [name: string]: Tree | string };

/** A directory handle over `tree` (file contents as strings), its permission answering `answer`. */
function fakeHandle(name: string, tree: Tree, answer?: () => Promise<PermissionState>) {
  const asked: string[] = [];
  const dir = (n: string, t: Tree): DirectoryHandle => ({
    kind: 'directory',
    name: n,
    async *values() {
      for (const [k, v] of Object.entries(t)) {
        if (typeof v === 'string')
          yield { kind: 'file', name: k, getFile: async () => new File([v], k) };
        else yield dir(k, v);
      }
    },
  });
  const top = dir(name, tree);
  if (answer)
    top.requestPermission = (d) => {
      asked.push(d.mode);
      return answer();
    };
  return { handle: top, asked };
}

const TREE: Tree = { 'classes.json': '{}', images: { 'a.nii': 'A' }, labels: { 'a.nii': 'L' } };

describe('readKeptFolder', () => {
  it('asks to read, then answers every file by its path under the folder', async () => {
    const { handle, asked } = fakeHandle('scans', TREE, async () => 'granted');
    const r = await readKeptFolder(handle);
    expect(asked).toEqual(['read']);
    if (!r.ok) throw new Error(r.message);
    const files = await Promise.all(
      r.files.map(async (f) => [f.path, new TextDecoder().decode(await f.file.arrayBuffer())]),
    );
    expect(files).toEqual([
      ['scans/classes.json', '{}'],
      ['scans/images/a.nii', 'A'],
      ['scans/labels/a.nii', 'L'],
    ]);
  });

  it.each(['denied', 'prompt'] as const)(
    'permission %s: refused in one line, nothing read',
    async (s) => {
      const { handle } = fakeHandle('scans', TREE, async () => s);
      expect(await readKeptFolder(handle)).toEqual({
        ok: false,
        message:
          'Reading the folder scans was not allowed: open it with Open folder… to resume the run.',
      });
    },
  );

  it('a folder gone since: says so, naming it', async () => {
    const { handle } = fakeHandle('scans', TREE, async () => 'granted');
    handle.values = () => {
      throw new DOMException('A requested file or directory could not be found', 'NotFoundError');
    };
    expect(await readKeptFolder(handle)).toEqual({
      ok: false,
      message:
        'The folder scans could not be read again (A requested file or directory could not be found); it may have been moved or deleted: open it with Open folder… to resume the run.',
    });
  });
});
