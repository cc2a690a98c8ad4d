/**
 * CPU training throughput of the demo preset: the torch runtime
 * (python/mam_torch, one process) against `mam train` on wasm, with the same
 * threads (as many as tfjs's wasm backend takes here), batch, steps and data.
 * Both write history.csv with the training seconds of every step
 * (validation excluded); images/s = batch · timed steps / their seconds,
 * after `WARMUP` steps. Prints the ratio; writes bench/out/torch.json.
 * `npm run bench -- torch [--quick]` (needs .venv with torch).
 */
import { execFileSync } from 'node:child_process';
import { mkdtempSync, readFileSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import * as path from 'node:path';
import { writeResult } from './util.ts';

const root = path.resolve(import.meta.dirname, '..');
const python = path.join(root, '.venv', 'bin', 'python');
const WARMUP = 3;
const BATCH = 4;

/** Images/s from a run folder's history.csv (elapsed_s is cumulative training time). */
function imagesPerSec(run: string): number {
  const rows = readFileSync(path.join(run, 'history.csv'), 'utf8').trim().split('\n').slice(1);
  const elapsed = rows.map((r) => Number(r.split(',')[6]));
  const timed = elapsed.length - WARMUP;
  return (BATCH * timed) / (elapsed[elapsed.length - 1] - elapsed[WARMUP - 1]);
}

export async function run(argv: string[]) {
  const steps = argv.includes('--quick') ? WARMUP + 5 : WARMUP + 20;
  const dir = mkdtempSync(path.join(tmpdir(), 'mam-bench-torch-'));
  const common = ['--data', 'demo', '--steps', String(steps), '--batch', String(BATCH)];
  const graph = path.join(root, 'presets', 'demo-mam.json');
  try {
    const tsOut = path.join(dir, 'ts');
    execFileSync(
      process.execPath,
      [
        path.join(root, 'bin', 'mam.js'),
        'train',
        graph,
        ...common,
        '--backend',
        'wasm',
        '--val-every',
        '0',
        '--out',
        tsOut,
      ],
      { cwd: root, encoding: 'utf8', stdio: ['ignore', 'pipe', 'pipe'] },
    );
    // the wasm backend's thread count, as run.json records it ("… 1 thread" / "… 4 threads")
    const adapter = JSON.stringify(
      JSON.parse(readFileSync(path.join(tsOut, 'run.json'), 'utf8')).backend,
    );
    const threads = Number(/(\d+) threads?/.exec(adapter)?.[1] ?? 1);
    const torchOut = path.join(dir, 'torch');
    execFileSync(
      python,
      [
        '-m',
        'mam_torch.train',
        graph,
        ...common,
        '--threads',
        String(threads),
        '--val-every',
        '0',
        '--out',
        torchOut,
      ],
      {
        cwd: root,
        encoding: 'utf8',
        stdio: ['ignore', 'pipe', 'pipe'],
        env: {
          ...process.env,
          PYTHONPATH: path.join(root, 'python'),
          OMP_NUM_THREADS: String(threads),
        },
      },
    );
    const ts = imagesPerSec(tsOut);
    const torch = imagesPerSec(torchOut);
    console.log(
      `torch: demo-mam training on the CPU, batch ${BATCH}, ${steps - WARMUP} timed steps, ${threads} thread(s) each`,
    );
    console.log(`  mam train (tfjs wasm) ${ts.toFixed(2)} images/s`);
    console.log(`  mam_torch (PyTorch)   ${torch.toFixed(2)} images/s`);
    console.log(`  torch / wasm: ${(torch / ts).toFixed(2)}x`);
    writeResult('torch', {
      batch: BATCH,
      steps,
      warmup: WARMUP,
      threads,
      wasmImagesPerSec: ts,
      torchImagesPerSec: torch,
      ratio: torch / ts,
      backend: adapter,
    });
  } finally {
    rmSync(dir, { recursive: true, force: true });
  }
}
