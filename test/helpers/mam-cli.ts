/** Running the `mam` command in tests: as a user does (node bin/mam.js) or in-process through main(). */
import { spawn, type ChildProcess } from 'node:child_process';
import * as path from 'node:path';
import { main } from '../../src/cli/main.ts';
import type { KernelTable } from '../../src/compile/kernels/types.ts';

export const repoRoot = path.resolve(import.meta.dirname, '../..');

export interface MamResult {
  code: number | null;
  stdout: string;
  stderr: string;
}

type SpawnOptions = { onLine?: (line: string, child: ChildProcess) => void };

/** `node bin/mam.js …` in `cwd`; `onLine` sees each stdout line (e.g. to send SIGINT). */
export const spawnMam = (args: string[], cwd: string, opts: SpawnOptions = {}) =>
  spawnNode([path.join(repoRoot, 'bin', 'mam.js'), ...args], cwd, opts);

/** `node …` in `cwd`, its output captured. */
export function spawnNode(
  args: string[],
  cwd: string,
  opts: SpawnOptions = {},
): Promise<MamResult> {
  return new Promise((resolve) => {
    const child = spawn(process.execPath, args, {
      cwd,
      stdio: ['ignore', 'pipe', 'pipe'],
    });
    let stdout = '';
    let stderr = '';
    let pending = '';
    child.stdout.on('data', (b: Buffer) => {
      stdout += b.toString();
      pending += b.toString();
      let nl;
      while ((nl = pending.indexOf('\n')) >= 0) {
        opts.onLine?.(pending.slice(0, nl), child);
        pending = pending.slice(nl + 1);
      }
    });
    child.stderr.on('data', (b: Buffer) => (stderr += b.toString()));
    child.on('close', (code) => resolve({ code, stdout, stderr }));
  });
}

/** main() in this process (paths must be absolute), with stdout and stderr captured; `kernels`: a host's kernel table. */
export async function mamInProcess(args: string[], kernels?: KernelTable): Promise<MamResult> {
  let stdout = '';
  let stderr = '';
  const code = await main(args, {
    print: (s) => (stdout += s + '\n'),
    log: (s) => (stderr += s + '\n'),
    ...(kernels ? { kernels } : {}),
  });
  return { code, stdout, stderr };
}

/**
 * `mam train` of a graph on demo3d for two steps at batch 2 on wasm, validating
 * and checkpointing after each, into `run`: the out-of-memory tests' run.
 */
export const twoStepWasmTrain = (graph: string, run: string): string[] => [
  'train',
  graph,
  '--data',
  'demo3d',
  '--steps',
  '2',
  '--val-every',
  '1',
  '--checkpoint-every',
  '1',
  '--batch',
  '2',
  '--backend',
  'wasm',
  '--out',
  run,
];
