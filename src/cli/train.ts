/**
 * `mam train <graph.json> --data <dir|demo> …`: trains a graph, writing a run
 * folder (checkpoint/, best.safetensors, history.csv, metrics.json, run.json).
 * Ctrl-C stops after the current step with a valid checkpoint; --resume goes on
 * from it and repeats exactly the steps an uninterrupted run would take.
 * This file is the command line: flags, Ctrl-C and the progress bar; the run
 * itself is the session's (src/session/folder-train.ts) into its run folder.
 */
import { readFile } from 'node:fs/promises';
import * as path from 'node:path';
import { trainInFolder, type FolderTrainEvent } from '../session/folder-train.ts';
import { RunFolder } from '../session/run-folder.ts';
import { resolveBase, type SettingsOverrides } from '../session/settings.ts';
import { COMMON_FLAGS, type Parsed, type VerbSpec } from './args.ts';
import { SessionError, EXIT_CODES } from './errors.ts';
import { compileGraphFile, startBackend } from './load-model.ts';
import type { CliIO } from './main.ts';
import type { KernelTable } from '../compile/kernels/types.ts';
import { checkClasses, loadDataArg } from './train-data.ts';

const count = (help: string, min: number) => ({ kind: 'int', value: '<N>', min, help }) as const;

export const TRAIN_SPEC = {
  verb: 'train',
  positionals: ['<graph.json>'],
  flags: {
    data: {
      kind: 'string',
      value: '<dir|demo|demo3d>',
      required: true,
      help: 'the data set (demo: 2D slices; demo3d: volumes, for 3D graphs)',
    },
    out: { kind: 'string', value: '<dir>', help: 'the run folder (default runs/<graph>-<time>)' },
    resume: { kind: 'boolean', help: 'continue the run in --out from its checkpoint' },
    epochs: count("epochs (default: the graph's, else 30)", 1),
    steps: count('steps (instead of --epochs)', 1),
    batch: count("images per step (default: the graph's, else 8)", 1),
    lr: { kind: 'number', value: '<x>', min: 0, help: 'base learning rate' },
    optimizer: {
      kind: 'string',
      value: '<name>',
      choices: ['sgd', 'adamw'],
      help: "optimizer (default: the graph's, else sgd)",
    },
    backend: COMMON_FLAGS.backend,
    threads: COMMON_FLAGS.threads,
    seed: count('seed of initialisation, shuffle, augmentation, drop-path', 0),
    'val-every': count('validate every N steps (0: only at the end; default: each epoch)', 0),
    'checkpoint-every': count('checkpoint every N steps (0: at each validation)', 0),
    patience: count('stop after N validations without improvement (0: never)', 0),
    metrics: COMMON_FLAGS.metrics,
    normalise: COMMON_FLAGS.normalise,
    resize: COMMON_FLAGS.resize,
    'no-augment': { kind: 'boolean', help: 'train without augmentation' },
  },
  summary: 'train a graph, with checkpoints, Ctrl-C and --resume',
} as const satisfies VerbSpec;

type TrainArgs = Parsed<typeof TRAIN_SPEC>;

/** Flags that only a new run takes (a resumed run keeps its own settings). */
const RUN_SETTINGS = [
  'epochs',
  'steps',
  'batch',
  'lr',
  'optimizer',
  'val-every',
  'checkpoint-every',
  'patience',
  'metrics',
  'no-augment',
  'normalise',
  'resize',
] as const;

export function formatDuration(sec: number): string {
  if (!Number.isFinite(sec)) return '?';
  const s = Math.round(sec);
  if (s < 60) return `${s}s`;
  if (s < 3600) return `${Math.floor(s / 60)}m${String(s % 60).padStart(2, '0')}s`;
  return `${Math.floor(s / 3600)}h${String(Math.floor((s % 3600) / 60)).padStart(2, '0')}m`;
}

export async function codeVersion(): Promise<string> {
  try {
    const pkg = JSON.parse(
      await readFile(new URL('../../package.json', import.meta.url), 'utf8'),
    ) as { name: string; version: string };
    return `${pkg.name} ${pkg.version}`;
  } catch {
    return 'unknown';
  }
}

/**
 * Runs `work` with Ctrl-C as its abort signal: the first stops after the
 * current step with a valid checkpoint, a second quits at once.
 */
export async function withInterrupt(
  who: string,
  log: (s: string) => void,
  work: (signal: AbortSignal) => Promise<number>,
): Promise<number> {
  const controller = new AbortController();
  let interrupts = 0;
  const onSigint = () => {
    interrupts++;
    if (interrupts > 1) {
      log(`\n${who}: stopped at once; the last checkpoint stays valid`);
      process.exit(EXIT_CODES.interrupted);
    }
    log(
      `\n${who}: stopping after this step and saving a checkpoint (Ctrl-C again to quit at once)`,
    );
    controller.abort();
  };
  process.on('SIGINT', onSigint);
  try {
    return await work(controller.signal);
  } finally {
    process.off('SIGINT', onSigint);
  }
}

export function trainCommand(p: TrainArgs, { print, log, kernels }: CliIO): Promise<number> {
  return withInterrupt('mam train', log, (signal) => runTraining(p, signal, print, log, kernels));
}

/** The flags a user gave, as the settings resolver's overrides. */
function overridesOf(p: TrainArgs): SettingsOverrides {
  const f = p.flags;
  return {
    epochs: f.epochs,
    steps: f.steps,
    batchSize: f.batch,
    learningRate: f.lr,
    optimizer: f.optimizer,
    valEvery: f['val-every'],
    checkpointEvery: f['checkpoint-every'],
    patience: f.patience,
    augment: f['no-augment'] ? false : undefined,
    convention: f.metrics,
    normalisation: f.normalise,
    resize: f.resize,
  };
}

/** The progress bar on a terminal, else a line every so many steps; the other events as lines. */
function progressView(print: (s: string) => void, note: string | undefined) {
  const tty = Boolean(process.stderr.isTTY);
  let barShown = false;
  const clearBar = () => {
    if (barShown) process.stderr.write('\r\x1b[K');
    barShown = false;
  };
  const onEvent = (e: FolderTrainEvent, log: (s: string) => void) => {
    switch (e.type) {
      case 'log':
        clearBar();
        log(e.message);
        break;
      case 'report':
        print(e.text);
        break;
      case 'step': {
        const every = e.totalSteps <= 500 ? 1 : Math.ceil(e.totalSteps / 500);
        const text = `step ${e.step}/${e.totalSteps} epoch ${e.epoch + 1} loss ${e.loss.toFixed(4)} lr ${e.lr.toPrecision(3)} ${e.imagesPerSec.toFixed(1)} img/s ETA ${formatDuration(e.etaSec)}`;
        if (tty) {
          const width = 24;
          const done = Math.round((width * e.step) / e.totalSteps);
          process.stderr.write(`\r\x1b[K[${'#'.repeat(done)}${'.'.repeat(width - done)}] ${text}`);
          barShown = true;
        } else if (e.step % every === 0 || e.step === e.totalSteps || e.step === 1) print(text);
        break;
      }
      case 'validation':
        clearBar();
        print(
          `validation at step ${e.step}: mean Dice ${e.meanDice.toFixed(4)}, HD95 ${e.meanHd95.toFixed(2)} ${e.hd95Unit === 'voxel' ? 'voxels' : 'mm'} (${e.convention} convention${note ? `; ${note}` : ''})` +
            (e.best ? `; best ${e.best.meanDice.toFixed(4)} at step ${e.best.step}` : ''),
        );
        break;
      case 'checkpoint':
        clearBar();
        print(`checkpoint: step ${e.step} saved to ${e.where}`);
        break;
      case 'done':
        clearBar();
        print(
          `done: ${e.reason} at step ${e.step}${e.best ? `; best mean Dice ${e.best.meanDice.toFixed(4)} at step ${e.best.step}` : ''}`,
        );
        break;
    }
  };
  return { onEvent, clearBar };
}

async function runTraining(
  p: TrainArgs,
  signal: AbortSignal,
  print: (s: string) => void,
  log: (s: string) => void,
  kernels?: KernelTable,
): Promise<number> {
  const graphPath = p.positionals[0];
  const dataArg = p.flags.data as string;
  const resume = p.flags.resume === true;
  const outFlag = p.flags.out;
  if (resume && !outFlag)
    throw new SessionError(
      '--resume needs --out <run folder> (the run to continue)',
      EXIT_CODES.usage,
    );
  const stamp = new Date().toISOString().replace(/[-:]/g, '').replace(/\..*/, '').replace('T', '-');
  const runDir =
    outFlag ?? path.join('runs', `${path.basename(graphPath).replace(/\.json$/i, '')}-${stamp}`);
  const folder = new RunFolder(runDir);
  const ckpt = await folder.open(resume);

  const seedFlag = p.flags.seed;
  const compiled = await compileGraphFile(
    graphPath,
    ckpt?.state.settings.seed ?? seedFlag ?? 0,
    kernels,
  );
  const meta = compiled.graph.metadata?.training;
  const seed = ckpt?.state.settings.seed ?? resolveBase(meta, { seed: seedFlag }).seed.value;
  // Compile again if the seed came from the graph's metadata (the weights' initialisation depends on it).
  const { model, plan, graph } =
    seed === (ckpt?.state.settings.seed ?? seedFlag ?? 0)
      ? compiled
      : (compiled.model.dispose(), await compileGraphFile(graphPath, seed, kernels));
  try {
    const backend = await startBackend(p.flags.backend ?? 'auto', log, p.flags.threads);
    // a resumed run's split is the one it recorded (an ablation's runs share the first seed's)
    const data = await loadDataArg(dataArg, ckpt?.state.settings.splitSeed ?? seed);
    for (const w of data.warnings) log(`warning: ${w}`);
    checkClasses(data, plan.classNames, (s) => log(`warning: ${s}`));
    if (ckpt) {
      const ignored = RUN_SETTINGS.filter((f) => p.given.has(f));
      if (ignored.length)
        log(
          `note: resuming with the run's own settings; ignored ${ignored.map((f) => `--${f}`).join(', ')}`,
        );
    }
    const view = progressView(print, data.note);
    let result;
    try {
      result = await trainInFolder(
        {
          graphFile: graphPath,
          dataArg,
          graph,
          plan,
          model,
          backend,
          data,
          folder,
          resume: ckpt,
          overrides: overridesOf(p),
          seed,
          code: await codeVersion(),
          signal,
        },
        (e) => view.onEvent(e, log),
      );
    } finally {
      view.clearBar();
    }
    if (result.reason === 'aborted') {
      log(
        `stopped at step ${result.step}; continue with: mam train ${graphPath} --data ${dataArg} --out ${runDir} --resume`,
      );
      return EXIT_CODES.interrupted;
    }
    if (result.reason === 'diverged') {
      log(
        `the loss became NaN or infinite after step ${result.step}; the last checkpoint is kept. Try a lower --lr.`,
      );
      return EXIT_CODES.diverged;
    }
    print(
      `run folder: ${runDir} (checkpoint/, best.safetensors, history.csv, metrics.json, run.json)`,
    );
    return EXIT_CODES.ok;
  } finally {
    model.dispose();
  }
}
