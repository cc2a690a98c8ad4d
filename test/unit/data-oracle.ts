/**
 * Running the Python oracles (test/python/*.py) from the data and metrics tests.
 * They run when .venv/bin/python exists in the repository and skip, saying so,
 * otherwise; under CI=true a missing oracle is a failure, not a skip (CI builds
 * .venv, so a skip there would hide a broken set-up).
 */
import { execFileSync } from 'node:child_process';
import { existsSync, mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import * as path from 'node:path';
import { fileURLToPath } from 'node:url';
import { describe, it } from 'vitest';

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

const underCi = process.env.CI === 'true';

function missingOracle(what: string): never {
  throw new Error(
    `${what}: ${venvPython} not found (or MAM_SKIP_PYTHON is set). Under CI=true the Python oracles must run: bash .ci/run builds .venv from test/python/requirements.txt.`,
  );
}

/** `describe` for a suite that needs the Python oracles (see the file comment). */
export function describeOracle(name: string, suite: () => void): void {
  if (hasPython) describe(name, suite);
  else if (underCi) describe(name, () => it('has its Python oracle', () => missingOracle(name)));
  else {
    skipNote(name);
    describe.skip(name, suite);
  }
}

/** `it` for a single test that needs the Python oracles. */
export function itOracle(name: string, test: () => void | Promise<void>, timeout?: number): void {
  if (hasPython) it(name, test, timeout);
  else if (underCi) it(name, () => missingOracle(name));
  else {
    skipNote(name);
    it.skip(name, test);
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
