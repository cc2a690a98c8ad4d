/**
 * `mam train <graph.json> --data <dir|demo> …`: trains a graph, writing a run
 * folder (checkpoint/, best.safetensors, history.csv, metrics.json, run.json).
 * Ctrl-C stops after the current step with a valid checkpoint; --resume goes on
 * from it and repeats exactly the steps an uninterrupted run would take.
 */
import { readFile } from 'node:fs/promises';
import * as path from 'node:path';
import * as tf from '#tfjs';
import { hashString } from '../compile/init.ts';
import type { CompiledModel } from '../compile/model.ts';
import { loadWeights, weightFingerprint } from '../compile/weights.ts';
import { describeResize, resizeRecords } from '../data/prepare.ts';
import type { Case } from '../data/types.ts';
import { historyToCsv, type Checkpoint, type TrainSettings } from '../train/checkpoint.ts';
import { FolderCheckpointStore, writeAtomic } from '../train/checkpoint-fs.ts';
import { evaluateCases, formatReport } from '../train/evaluate.ts';
import { train, type TrainEvent } from '../train/loop.ts';
import { decodeOptimizerState, optimizerStateMismatch } from '../train/optim.ts';
import { caseSlices, dataFingerprint, type Normalisation } from '../train/samples.ts';
import { resolveBase, resolveRun, type SettingsOverrides } from '../session/settings.ts';
import { COMMON_FLAGS, type Parsed, type VerbSpec } from './args.ts';
import { SessionError, EXIT_CODES, asOutput, makeOutputDir } from './errors.ts';
import { compileGraphFile, startBackend } from './load-model.ts';
import type { CliIO } from './main.ts';
import { checkClasses, loadDataArg } from './train-data.ts';

const count = (help: string, min: number) => ({ kind: 'int', value: '<N>', min, help }) as const;

export const TRAIN_SPEC = {
  verb: 'train',
  positionals: ['<graph.json>'],
  flags: {
    data: { kind: 'string', value: '<dir|demo>', required: true, help: 'the data set' },
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

async function codeVersion(): Promise<string> {
  try {
    const pkg = JSON.parse(
      await readFile(new URL('../../package.json', import.meta.url), 'utf8'),
    ) as { name: string; version: string };
    return `${pkg.name} ${pkg.version}`;
  } catch {
    return 'unknown';
  }
}

export async function trainCommand(p: TrainArgs, { print, log }: CliIO): Promise<number> {
  const controller = new AbortController();
  let interrupts = 0;
  const onSigint = () => {
    interrupts++;
    if (interrupts > 1) {
      log('\nmam train: stopped at once; the last checkpoint stays valid');
      process.exit(EXIT_CODES.interrupted);
    }
    log(
      '\nmam train: stopping after this step and saving a checkpoint (Ctrl-C again to quit at once)',
    );
    controller.abort();
  };
  process.on('SIGINT', onSigint);
  try {
    return await runTraining(p, controller.signal, print, log);
  } finally {
    process.off('SIGINT', onSigint);
  }
}

/** Channels of every case fit the graph's input (equal, or one channel repeated). */
function checkChannels(cases: Case[], want: number): void {
  for (const c of cases) {
    const n = c.channels.length;
    if (n !== want && n !== 1)
      throw new SessionError(
        `${c.files[0] ?? c.id} has ${n} channels but the graph's input takes ${want}`,
        EXIT_CODES.badData,
      );
  }
}

/** The checkpoint must fit the compiled graph (weights and optimizer slots), checked before anything is written. */
function checkResumable(runDir: string, model: CompiledModel, ckpt: Checkpoint): void {
  const r = loadWeights(
    model,
    ckpt.weights,
    path.join(runDir, 'checkpoint', 'weights.safetensors'),
  );
  if (!r.ok) throw new SessionError(r.message, EXIT_CODES.badWeights);
  let problem: string | null;
  try {
    const params = new Map([...model.weights.values()].map((w) => [w.key, w.variable]));
    problem = optimizerStateMismatch(
      decodeOptimizerState(ckpt.optimizer),
      ckpt.state.settings.optimizer.kind,
      params,
    );
  } catch (e) {
    problem = (e as Error).message;
  }
  if (problem)
    throw new SessionError(
      `${path.join(runDir, 'checkpoint', 'optimizer.safetensors')}: ${problem}`,
      EXIT_CODES.runFolder,
    );
}

/** The flags a user gave, as the settings resolver's overrides. */
function overridesOf(p: TrainArgs, seed: number, normalisation: Normalisation): SettingsOverrides {
  const f = p.flags;
  return {
    epochs: f.epochs,
    steps: f.steps,
    batchSize: f.batch,
    learningRate: f.lr,
    optimizer: f.optimizer,
    seed,
    valEvery: f['val-every'],
    checkpointEvery: f['checkpoint-every'],
    patience: f.patience,
    augment: f['no-augment'] ? false : undefined,
    convention: f.metrics,
    normalisation,
    resize: f.resize,
  };
}

async function runTraining(
  p: TrainArgs,
  signal: AbortSignal,
  print: (s: string) => void,
  log: (s: string) => void,
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
  const store = new FolderCheckpointStore(runDir);
  const existing = await store.load();
  if (!existing.ok)
    throw new SessionError(
      `${runDir}: the checkpoint cannot be read: ${existing.message}`,
      EXIT_CODES.runFolder,
    );
  if (resume && !existing.checkpoint)
    throw new SessionError(`${runDir} holds no checkpoint to resume`, EXIT_CODES.runFolder);
  if (!resume && existing.checkpoint) {
    throw new SessionError(
      `${runDir} already holds a run (checkpoint at step ${existing.checkpoint.state.step}); pass --resume to continue it or choose another --out`,
      EXIT_CODES.runFolder,
    );
  }
  const ckpt = existing.checkpoint;

  const seedFlag = p.flags.seed;
  const compiled = await compileGraphFile(graphPath, ckpt?.state.settings.seed ?? seedFlag ?? 0);
  const meta = compiled.graph.metadata?.training ?? {};
  const seed = ckpt?.state.settings.seed ?? resolveBase(meta, { seed: seedFlag }).seed.value;
  // Compile again if the seed came from the graph's metadata (the weights' initialisation depends on it).
  const { model, plan, graph } =
    seed === (ckpt?.state.settings.seed ?? seedFlag ?? 0)
      ? compiled
      : (compiled.model.dispose(), await compileGraphFile(graphPath, seed));
  try {
    return await trainModel();
  } finally {
    model.dispose();
  }

  async function trainModel(): Promise<number> {
    const backend = await startBackend(p.flags.backend ?? 'auto', log);

    const data = await loadDataArg(dataArg, seed);
    for (const w of data.warnings) log(`warning: ${w}`);
    checkClasses(data, plan.classNames, (s) => log(`warning: ${s}`));
    if (data.splits.train.length === 0)
      throw new SessionError(
        `${dataArg}: the split leaves no training cases`,
        EXIT_CODES.emptyData,
      );
    const allCases = [...data.splits.train, ...data.splits.val, ...data.splits.test];
    const [, inH, inW, inC] = plan.input.shape;
    checkChannels(allCases, inC);
    const fingerprint = dataFingerprint(allCases);

    let settings: TrainSettings;
    const normalisation = ckpt?.state.settings.normalisation ?? p.flags.normalise ?? 'auto';
    let slices;
    try {
      slices = data.splits.train.flatMap((c) => caseSlices(c, normalisation));
    } catch (e) {
      throw new SessionError((e as Error).message, EXIT_CODES.badData);
    }
    if (ckpt) {
      settings = ckpt.state.settings;
      if (ckpt.state.dataFingerprint !== fingerprint) {
        throw new SessionError(
          `${runDir} was trained on other data (fingerprint ${ckpt.state.dataFingerprint}, now ${fingerprint}); resume with the same --data`,
          EXIT_CODES.runFolder,
        );
      }
      checkResumable(runDir, model, ckpt);
      const ignored = RUN_SETTINGS.filter((f) => p.given.has(f));
      if (ignored.length)
        log(
          `note: resuming with the run's own settings; ignored ${ignored.map((f) => `--${f}`).join(', ')}`,
        );
      log(`resuming ${runDir} at step ${ckpt.state.step} of ${settings.steps}`);
    } else {
      const r = resolveRun(meta, overridesOf(p, seed, normalisation), slices.length);
      settings = r.settings;
      const kind = r.base.optimizer.value;
      const baseLr = r.base.learningRate.value;
      const effBatch = r.effectiveBatch;
      const spe = r.stepsPerEpoch;
      const steps = settings.steps;
      log(
        `training ${path.basename(graphPath)} on ${data.source}: ${slices.length} slices, batch ${effBatch}, ${steps} steps (${spe} per epoch), ` +
          `${kind} lr ${settings.learningRate.toPrecision(3)}${kind === 'sgd' ? ` (${baseLr} at batch 24, scaled ×${effBatch}/24)` : ''}, poly schedule, seed ${seed} → ${runDir}`,
      );
    }
    const resized = resizeRecords(slices, [inH, inW], settings.resize ?? 'stretch');
    for (const r of resized) log(`resizing ${describeResize(r)}`);

    // Everything is checked: only now does the run folder change.
    await makeOutputDir(runDir, 'run folder');
    const runInfo = {
      format: 'mam-studio/run',
      version: 1,
      updated: new Date().toISOString(),
      graph: {
        file: path.resolve(graphPath),
        title: graph.metadata?.title ?? '',
        weightsFingerprint: weightFingerprint(model),
        documentHash: hashString(JSON.stringify(graph)).toString(16).padStart(8, '0'),
      },
      code: await codeVersion(),
      tfjs: tf.version_core,
      backend: {
        name: backend.name,
        adapter: backend.adapterInfo,
        software: backend.isSoftware,
        ...(backend.fallbackFrom ? { fallbackFrom: backend.fallbackFrom } : {}),
      },
      seeds: {
        init: seed,
        shuffle: seed,
        augment: seed,
        dropPath: seed,
        scheme: 'fnv1a(seed, purpose:step) → mulberry32',
      },
      data: {
        source: data.source,
        fingerprint,
        splitRule: data.splitRule,
        split: {
          train: data.splits.train.map((c) => c.id),
          val: data.splits.val.map((c) => c.id),
          test: data.splits.test.map((c) => c.id),
        },
        trainSlices: slices.length,
        normalisation: settings.normalisation,
        resize: { rule: settings.resize ?? 'stretch', input: [inH, inW], slices: resized },
        classNames: plan.classNames,
        ...(data.note ? { note: data.note } : {}),
      },
      metricConvention: settings.convention,
      settings,
    };
    /** A file of the run folder, written atomically; failure is exit 73 naming it. */
    const writeRunFile = (name: string, text: string) => {
      const file = path.join(runDir, name);
      return asOutput('', file, () => writeAtomic(file, text));
    };
    await writeRunFile('run.json', JSON.stringify(runInfo, null, 2) + '\n');
    const historyFile = path.join(runDir, 'history.csv');
    const cliStore = {
      save: (c: Checkpoint) =>
        asOutput('checkpoint in', runDir, async () => {
          const where = await store.save(c);
          await writeAtomic(historyFile, historyToCsv(c.state.history, plan.classNames));
          return where;
        }),
      saveBest: (w: Uint8Array) => asOutput('best weights in', runDir, () => store.saveBest(w)),
    };

    const tty = Boolean(process.stderr.isTTY);
    let barShown = false;
    const clearBar = () => {
      if (barShown) process.stderr.write('\r\x1b[K');
      barShown = false;
    };
    const every = settings.steps <= 500 ? 1 : Math.ceil(settings.steps / 500);
    const onEvent = (e: TrainEvent) => {
      switch (e.type) {
        case 'step': {
          const text = `step ${e.step}/${e.totalSteps} epoch ${e.epoch + 1} loss ${e.loss.toFixed(4)} lr ${e.lr.toPrecision(3)} ${e.imagesPerSec.toFixed(1)} img/s ETA ${formatDuration(e.etaSec)}`;
          if (tty) {
            const width = 24;
            const done = Math.round((width * e.step) / e.totalSteps);
            process.stderr.write(
              `\r\x1b[K[${'#'.repeat(done)}${'.'.repeat(width - done)}] ${text}`,
            );
            barShown = true;
          } else if (e.step % every === 0 || e.step === e.totalSteps || e.step === 1) print(text);
          break;
        }
        case 'validation':
          clearBar();
          print(
            `validation at step ${e.step}: mean Dice ${e.meanDice.toFixed(4)}, HD95 ${e.meanHd95.toFixed(2)} ${e.hd95Unit === 'voxel' ? 'voxels' : 'mm'} (${e.convention} convention${data.note ? `; ${data.note}` : ''})` +
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

    let result;
    try {
      result = await train({
        model,
        data: { classNames: plan.classNames, train: slices, val: data.splits.val, fingerprint },
        settings,
        signal,
        onEvent,
        checkpoint: cliStore,
        ...(ckpt ? { resume: ckpt } : {}),
      });
    } finally {
      clearBar();
    }

    const metrics: Record<string, unknown> = {
      convention: settings.convention,
      ...(data.note ? { note: data.note } : {}),
      step: result.step,
      reason: result.reason,
      best: result.state.best,
      lastValidation: result.state.lastValidation,
    };
    if (result.reason === 'aborted') {
      await writeRunFile('metrics.json', JSON.stringify(metrics, null, 2) + '\n');
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
    if (data.splits.test.length) {
      try {
        const best = await readFile(path.join(runDir, 'best.safetensors'));
        const r = loadWeights(model, new Uint8Array(best), 'best.safetensors');
        if (!r.ok) log(`warning: ${r.message}; testing the last weights`);
      } catch {
        log('no best.safetensors: testing the last weights');
      }
      const report = await evaluateCases(model, data.splits.test, {
        classNames: plan.classNames,
        convention: settings.convention,
        normalisation: settings.normalisation,
        resize: settings.resize,
        batchSize: Math.max(4, settings.batchSize),
      });
      metrics.test = {
        weights: 'best.safetensors',
        summary: report.summary,
        ruleCounts: report.ruleCounts,
      };
      await writeRunFile('test-metrics.csv', report.csv);
      print(
        `test split (${data.splits.test.length} volume${data.splits.test.length === 1 ? '' : 's'}, best weights):`,
      );
      print(formatReport(report, data.note));
    }
    await writeRunFile('metrics.json', JSON.stringify(metrics, null, 2) + '\n');
    print(
      `run folder: ${runDir} (checkpoint/, best.safetensors, history.csv, metrics.json, run.json)`,
    );
    return EXIT_CODES.ok;
  }
}
