/**
 * Running the torch runtime (python/mam_torch) from the tests: this worktree's
 * python/ on PYTHONPATH (so the tests check the code beside them, not an
 * installed copy), with the venv of the Python oracles.
 */
import { execFile, spawn, type ChildProcess, type ExecFileOptions } from 'node:child_process';
import { mkdtempSync, readFileSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import * as path from 'node:path';
import { afterAll, beforeAll } from 'vitest';
import { repoRoot, venvPython } from '../unit/data-oracle.ts';

export const torchEnv = (): NodeJS.ProcessEnv => ({
  ...process.env,
  PYTHONPATH: [path.join(repoRoot, 'python'), process.env.PYTHONPATH].filter(Boolean).join(':'),
  OMP_NUM_THREADS: process.env.OMP_NUM_THREADS ?? '2',
});

export interface Ran {
  code: number;
  stdout: string;
  stderr: string;
}

/** Runs `file args` with the torch environment; resolves with the exit code and output (never rejects on a non-zero exit). */
export function runWithTorch(
  file: string,
  args: string[],
  opts: ExecFileOptions = {},
): Promise<Ran> {
  return new Promise((resolve) => {
    execFile(
      file,
      args,
      { cwd: repoRoot, env: torchEnv(), maxBuffer: 64 << 20, encoding: 'utf8', ...opts },
      (err, stdout, stderr) => {
        const code = err ? (typeof err.code === 'number' ? err.code : 1) : 0;
        resolve({ code, stdout: String(stdout), stderr: String(stderr) });
      },
    );
  });
}

/** `python -m mam_torch.<module> args` (or a script path) in the venv. */
export const runPython = (args: string[], opts: ExecFileOptions = {}) =>
  runWithTorch(venvPython, args, opts);

/**
 * `torchrun --nproc_per_node=N -m mam_torch.train …` (N = 1: plain python) with the output
 * captured; `onLine` sees each stdout line with the child (e.g. to send SIGINT on a condition).
 */
export function spawnTrain(
  nproc: number,
  args: string[],
  onLine?: (line: string, child: ChildProcess) => void,
): Promise<Ran> {
  const torchrun = path.join(path.dirname(venvPython), 'torchrun');
  const [file, pre] =
    nproc > 1
      ? [torchrun, [`--nproc_per_node=${nproc}`, '--standalone', '-m', 'mam_torch.train']]
      : [venvPython, ['-m', 'mam_torch.train']];
  return new Promise((resolve) => {
    const child = spawn(file, [...pre, ...args], {
      cwd: repoRoot,
      env: { ...torchEnv(), OMP_NUM_THREADS: '1' },
      stdio: ['ignore', 'pipe', 'pipe'],
    });
    let stdout = '';
    let stderr = '';
    let pending = '';
    child.stdout!.on('data', (b: Buffer) => {
      stdout += b.toString();
      pending += b.toString();
      let nl;
      while ((nl = pending.indexOf('\n')) >= 0) {
        onLine?.(pending.slice(0, nl), child);
        pending = pending.slice(nl + 1);
      }
    });
    child.stderr!.on('data', (b: Buffer) => (stderr += b.toString()));
    child.on('close', (code) => resolve({ code: code ?? 1, stdout, stderr }));
  });
}

/** A temporary folder for the suite this is called in (made before its tests, removed after); the getter gives its path. */
export function suiteTempDir(prefix: string): () => string {
  let dir = '';
  beforeAll(() => {
    dir = mkdtempSync(path.join(tmpdir(), prefix));
  });
  afterAll(() => rmSync(dir, { recursive: true, force: true }));
  return () => dir;
}

/**
 * A torch run of `args` that ends in `out`: its exit, its log, the schedule its run.json
 * records and the learning rate of each step (checkpoint/state.json's history, full precision).
 */
export async function trainedSchedule(args: string[], out: string) {
  const r = await spawnTrain(1, [...args, '--val-every', '0', '--out', out]);
  const read = (f: string) => JSON.parse(readFileSync(path.join(out, f), 'utf8'));
  const ok = r.code === 0;
  return {
    ...r,
    schedule: ok ? (read('run.json').settings.schedule as string) : undefined,
    lrs: ok ? (read('checkpoint/state.json').history as { lr: number }[]).map((h) => h.lr) : [],
  };
}
