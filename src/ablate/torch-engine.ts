/**
 * The `torch` ablation engine: each run is `python -m mam_torch.train` (or
 * torch.distributed.run with --nproc N > 1) in its run folder, which writes
 * the same run folder as `mam train`, test metrics included, so the runner
 * reads its metrics.json as it reads the local engine's. A run folder with a
 * checkpoint and no finished test result continues with `--resume`.
 *
 * The repository's own python/ goes first on PYTHONPATH, so a checkout runs
 * the mam_torch beside it without installing it.
 */
import { execFile, spawn } from 'node:child_process';
import { existsSync } from 'node:fs';
import * as path from 'node:path';
import { fileURLToPath } from 'node:url';
import { EXIT_CODES, SessionError, type ExitCode } from '../session/errors.ts';
import type { SettingsOverrides } from '../session/settings.ts';
import type { AblationEngine } from './runner.ts';

const repoRoot = fileURLToPath(new URL('../../', import.meta.url));

/** `--python`'s default: the repository's .venv if there is one, else python3 from PATH. */
export function defaultPython(root = repoRoot): string {
  const venv = path.join(root, '.venv', 'bin', 'python');
  return existsSync(venv) ? venv : 'python3';
}

export interface TorchEngineOptions {
  /** The Python interpreter that has torch (and mam_torch, or the repository's python/). */
  python: string;
  /** The `--data` argument the runs train on (a folder or 'demo'). */
  dataArg: string;
  /** Processes per run (torch.distributed.run when > 1). */
  nproc?: number;
  /** Extra environment for the child (e.g. OMP_NUM_THREADS). */
  env?: NodeJS.ProcessEnv;
}

function childEnv(extra: NodeJS.ProcessEnv = {}): NodeJS.ProcessEnv {
  const env = { ...process.env, ...extra };
  env.PYTHONPATH = [path.join(repoRoot, 'python'), env.PYTHONPATH].filter(Boolean).join(':');
  return env;
}

/**
 * Refuses, in one line naming --python, an interpreter that cannot start or
 * cannot import mam_torch (and torch), before any run folder is written.
 */
export function checkTorchPython(python: string, env?: NodeJS.ProcessEnv): Promise<void> {
  return new Promise((resolve, reject) => {
    execFile(
      python,
      ['-c', 'import torch, mam_torch'],
      { env: childEnv(env), encoding: 'utf8' },
      (err, _stdout, stderr) => {
        if (!err) return resolve();
        const last = String(stderr).trim().split('\n').pop() || err.message.split('\n')[0];
        reject(
          new SessionError(
            `--python ${python}: cannot import mam_torch (${last}); give a Python with torch installed, e.g. --python .venv/bin/python`,
            EXIT_CODES.usage,
          ),
        );
      },
    );
  });
}

const STEP_LINE = /^step (\d+)\/(\d+) epoch (\d+) loss (\S+) lr (\S+) (\S+) img\/s ETA/;

/** The settings overrides mam_torch.train takes as flags (steps and epochs apart: one or the other). */
function overrideFlags(o: SettingsOverrides): string[] {
  const flags: [string, string | number | undefined][] = [
    ['--batch', o.batchSize],
    ['--lr', o.learningRate],
    ['--optimizer', o.optimizer],
    ['--val-every', o.valEvery],
    ['--checkpoint-every', o.checkpointEvery],
    ['--patience', o.patience],
    ['--metrics', o.convention],
    ['--normalise', o.normalisation],
    ['--resize', o.resize],
  ];
  return [
    ...flags.flatMap(([f, v]) => (v === undefined ? [] : [f, String(v)])),
    ...(o.augment === false ? ['--no-augment'] : []),
  ];
}

const KNOWN_CODES = new Set<number>(Object.values(EXIT_CODES));

/** What mam_torch's load_checkpoint looks for; it judges the files itself on --resume. */
const hasTorchCheckpoint = async (runDir: string) =>
  ['checkpoint', 'checkpoint.old'].some((d) => existsSync(path.join(runDir, d, 'state.json')));

export function torchEngine(opts: TorchEngineOptions): AblationEngine {
  const nproc = opts.nproc ?? 1;
  return {
    name: 'torch',
    hasCheckpoint: hasTorchCheckpoint,
    async run(job, onEvent) {
      const resume = await hasTorchCheckpoint(job.runDir);
      const o = job.overrides;
      const args = [
        job.graphFile,
        '--data',
        opts.dataArg,
        '--out',
        job.runDir,
        '--seed',
        String(job.seed),
        '--split-seed',
        String(o.splitSeed ?? job.seed),
        ...(resume ? ['--resume'] : []),
        ...(o.steps !== undefined ? ['--steps', String(o.steps)] : []),
        ...(o.steps === undefined && o.epochs !== undefined ? ['--epochs', String(o.epochs)] : []),
        ...overrideFlags(o),
      ];
      const pre =
        nproc > 1
          ? [
              '-m',
              'torch.distributed.run',
              '--standalone',
              `--nproc_per_node=${nproc}`,
              '-m',
              'mam_torch.train',
            ]
          : ['-m', 'mam_torch.train'];
      const child = spawn(opts.python, [...pre, ...args], {
        env: childEnv(opts.env),
        stdio: ['ignore', 'pipe', 'pipe'],
        // Its own process group: a terminal's Ctrl-C reaches mam only, which passes it on once
        // (a second SIGINT would make mam_torch quit without finishing its step).
        detached: true,
      });
      const started = Date.now();
      let firstStep = -1;
      let lastStep = 0;
      const onLine = (line: string) => {
        const m = STEP_LINE.exec(line);
        if (!m) {
          if (line.trim()) onEvent({ type: 'log', message: line });
          return;
        }
        const [step, totalSteps, epoch] = [1, 2, 3].map((i) => Number(m[i]));
        if (firstStep < 0) firstStep = step - 1;
        lastStep = step;
        const perStep = (Date.now() - started) / 1000 / Math.max(1, step - firstStep);
        onEvent({
          type: 'step',
          step,
          totalSteps,
          epoch: epoch - 1,
          loss: Number(m[4]),
          ce: NaN,
          dice: NaN,
          lr: Number(m[5]),
          imagesPerSec: Number(m[6]),
          etaSec: (totalSteps - step) * perStep,
        });
      };
      const lines = (stream: NodeJS.ReadableStream, each: (l: string) => void) => {
        let pending = '';
        stream.on('data', (b: Buffer) => {
          pending += b.toString();
          let nl;
          while ((nl = pending.indexOf('\n')) >= 0) {
            each(pending.slice(0, nl).replace(/\r$/, ''));
            pending = pending.slice(nl + 1);
          }
        });
        stream.on('end', () => pending && each(pending));
      };
      let lastError = '';
      // torch.distributed.run ends with 1 when a worker fails; its report names the worker's
      // own exit code, the root cause's last.
      let workerCode: number | undefined;
      let rootCause = false;
      lines(child.stdout, onLine);
      lines(child.stderr, (l) => {
        if (!l.trim()) return;
        if (l.startsWith('mam_torch.train: ')) lastError = l.slice('mam_torch.train: '.length);
        if (/^Root Cause/.test(l)) rootCause = true;
        const exit = /^\s*exitcode\s*:\s*(-?\d+)/.exec(l);
        if (exit && (rootCause || workerCode === undefined)) workerCode = Number(exit[1]);
        onEvent({ type: 'log', message: l });
      });
      // Ctrl-C: mam_torch stops after the step with a valid checkpoint.
      const stop = () => child.kill('SIGINT');
      job.signal?.addEventListener('abort', stop, { once: true });
      const code = await new Promise<number>((resolve, reject) => {
        child.on('error', (e) =>
          reject(
            new SessionError(
              `--python ${opts.python}: cannot start (${e.message})`,
              EXIT_CODES.usage,
            ),
          ),
        );
        child.on('close', (c, sig) => resolve(c ?? (sig ? EXIT_CODES.interrupted : 1)));
      })
        .then((c) => (c !== 0 && nproc > 1 && workerCode !== undefined ? workerCode : c))
        .finally(() => job.signal?.removeEventListener('abort', stop));
      if (code === EXIT_CODES.ok) return { reason: 'completed', step: lastStep };
      if (code === EXIT_CODES.interrupted || job.signal?.aborted)
        return { reason: 'aborted', step: lastStep };
      if (code === EXIT_CODES.diverged) return { reason: 'diverged', step: lastStep };
      throw new SessionError(
        `${job.runDir}: mam_torch.train exited with ${code}${lastError ? `: ${lastError}` : ''}`,
        (KNOWN_CODES.has(code) ? code : EXIT_CODES.internal) as ExitCode,
      );
    },
  };
}
