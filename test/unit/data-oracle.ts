/**
 * Running the Python oracles (test/python/*.py) from the data and metrics tests.
 * They run when .venv/bin/python exists in the repository and skip, saying so, otherwise.
 */
import { execFileSync } from 'node:child_process';
import { existsSync, mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import * as path from 'node:path';
import { fileURLToPath } from 'node:url';

export const repoRoot = fileURLToPath(new URL('../../', import.meta.url));
export const venvPython = path.join(repoRoot, '.venv', 'bin', 'python');
/** MAM_SKIP_PYTHON=1 forces the no-venv path (to check the JS-only run). */
export const hasPython = !process.env.MAM_SKIP_PYTHON && existsSync(venvPython);

export function skipNote(what: string): void {
  if (!hasPython) {
    console.warn(
      `[skip] ${what}: ${venvPython} not found (or MAM_SKIP_PYTHON is set); set up the venv from test/python/requirements.txt to run the Python oracle`,
    );
  }
}

/** Run test/python/<script> with args; returns stdout. */
export function runOracle(script: string, args: string[]): string {
  return execFileSync(venvPython, [path.join(repoRoot, 'test', 'python', script), ...args], {
    encoding: 'utf8',
    timeout: 60_000,
    stdio: ['ignore', 'pipe', 'pipe'],
  });
}

export function withTempDir<T>(fn: (dir: string) => T): T {
  const dir = mkdtempSync(path.join(tmpdir(), 'mam-oracle-'));
  try {
    return fn(dir);
  } finally {
    rmSync(dir, { recursive: true, force: true });
  }
}
