/** The Node adapter of FileSource (the only file in src/data that touches node:fs). */
import { readdir, readFile } from 'node:fs/promises';
import { fileURLToPath } from 'node:url';
import * as path from 'node:path';
import type { FileSource } from './files.ts';

export function nodeFileSource(root: string): FileSource {
  return {
    async list(dir) {
      try {
        return (await readdir(path.join(root, dir))).sort();
      } catch {
        return [];
      }
    },
    async read(p) {
      try {
        const b = await readFile(path.join(root, p));
        return new Uint8Array(b.buffer, b.byteOffset, b.byteLength);
      } catch {
        return null;
      }
    },
  };
}

/** The shipped demo data folder (data/demo in the repository). */
export function demoDataDir(): string {
  return fileURLToPath(new URL('../../data/demo/', import.meta.url));
}

/** The shipped 3D demo data folder (data/demo3d: whole volumes of the same subject). */
export function demo3dDataDir(): string {
  return fileURLToPath(new URL('../../data/demo3d/', import.meta.url));
}
