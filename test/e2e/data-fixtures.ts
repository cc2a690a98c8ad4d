// Data folders for the e2e tests, written by nibabel (test/python/data_folder_fixtures.py).
import { execFileSync } from 'node:child_process';
import { existsSync, mkdirSync, readFileSync, rmSync } from 'node:fs';
import { join, resolve } from 'node:path';

export const ROOT = resolve(import.meta.dirname, '../..');
export const PYTHON = join(ROOT, '.venv', 'bin', 'python');
export const hasPython = existsSync(PYTHON);

export interface Expected {
  dims: number[];
  affine: number[][];
  zooms: number[];
  labelValues: number[];
}

/** A NIfTI folder written by nibabel under `files`, and what nibabel read back. */
export function niftiFolder(files: string, name: string, ...flags: string[]) {
  const dir = join(files, name);
  rmSync(dir, { recursive: true, force: true });
  mkdirSync(dir, { recursive: true });
  execFileSync(PYTHON, [join(ROOT, 'test/python/data_folder_fixtures.py'), 'make', dir, ...flags]);
  const expected = JSON.parse(readFileSync(join(dir, 'expected.json'), 'utf8')) as Record<
    string,
    Expected
  >;
  rmSync(join(dir, 'expected.json'));
  return { dir, expected };
}
