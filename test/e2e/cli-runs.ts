// Run folders as `mam train` writes them, for the runs-list tests to import.
import { readFileSync } from 'node:fs';
import { join } from 'node:path';
import { expect } from 'vitest';
import { repoRoot as ROOT, spawnMam } from '../helpers/mam-cli.ts';

/**
 * `mam train` of the demo preset on the demo data (wasm, 8 steps at batch 2, validating every
 * 2) into `dir`, stopped by Ctrl-C after its first checkpoint: a run with steps left to resume.
 * Resolves with the checkpoint's step and the path of its state.json.
 */
export async function interruptedCliRun(dir: string): Promise<{ step: number; stateFile: string }> {
  let signalled = false;
  const trained = await spawnMam(
    [
      'train',
      join(ROOT, 'presets', 'demo-mam.json'),
      '--data',
      'demo',
      '--backend',
      'wasm',
      '--steps',
      '8',
      '--batch',
      '2',
      '--val-every',
      '2',
      '--out',
      dir,
    ],
    ROOT,
    {
      onLine: (line, child) => {
        if (!signalled && line.startsWith('checkpoint:')) {
          signalled = true;
          child.kill('SIGINT');
        }
      },
    },
  );
  expect(trained.code, trained.stderr).toBe(130);
  const stateFile = join(dir, 'checkpoint', 'state.json');
  const state = JSON.parse(readFileSync(stateFile, 'utf8')) as { step: number };
  return { step: state.step, stateFile };
}
