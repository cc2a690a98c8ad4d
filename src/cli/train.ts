/**
 * `mam train <graph.json> --data <dir|demo> …`: trains a graph, writing a run
 * folder (checkpoint/, best.safetensors, history.csv, metrics.json, run.json).
 * Ctrl-C stops after the current step with a valid checkpoint; --resume goes on
 * from it and repeats exactly the steps an uninterrupted run would take.
 */
import { mkdir, readFile } from 'node:fs/promises';
import * as path from 'node:path';
import * as tf from '@tensorflow/tfjs';
import { initBackend } from '../backend/index.ts';
import { hashString } from '../compile/init.ts';
import { loadWeights, weightFingerprint } from '../compile/weights.ts';
import { historyToCsv, type TrainSettings } from '../train/checkpoint.ts';
import { FolderCheckpointStore, writeAtomic } from '../train/checkpoint-fs.ts';
import { evaluateCases, formatReport } from '../train/evaluate.ts';
import { stepsPerEpoch, train, type TrainEvent } from '../train/loop.ts';
import type { MetricConvention } from '../train/metrics.ts';
import { optimizerSettings, scaleLrForBatch } from '../train/optim.ts';
import { caseSlices, dataFingerprint, type Normalisation } from '../train/samples.ts';
import { flag, parseArgs } from './args.ts';
import { CliError, EXIT_CODES, compileGraphFile } from './load-model.ts';
import { checkClasses, loadDataArg } from './train-data.ts';

export const TRAIN_USAGE =
  'train <graph.json> --data <dir|demo> [--epochs N] [--steps N] [--batch N] [--lr X] [--optimizer sgd|adamw] [--backend auto|webgpu|wasm|cpu] [--out runs/<name>] [--resume] [--seed N] [--val-every N] [--checkpoint-every N] [--patience N] [--metrics synapse|monai] [--no-augment]';

const BOOLEAN_FLAGS = ['resume', 'no-augment', 'json'];

function numberFlag(
  p: ReturnType<typeof parseArgs>,
  name: string,
  opts: { int?: boolean; min?: number } = {},
): number | undefined {
  const v = flag(p, name);
  if (v === undefined) {
    if (p.flags.get(name) === true)
      throw new CliError(`--${name} needs a value`, EXIT_CODES.unreadable);
    return undefined;
  }
  const x = Number(v);
  if (
    !Number.isFinite(x) ||
    (opts.int && !Number.isInteger(x)) ||
    (opts.min !== undefined && x < opts.min)
  ) {
    throw new CliError(
      `--${name} ${v}: expected ${opts.int ? 'a whole number' : 'a number'}${opts.min !== undefined ? ` ≥ ${opts.min}` : ''}`,
      EXIT_CODES.unreadable,
    );
  }
  return x;
}

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

export async function trainCommand(args: string[], print: (s: string) => void): Promise<number> {
  const p = parseArgs(args, BOOLEAN_FLAGS);
  const graphPath = p.positional[0];
  const dataArg = flag(p, 'data');
  if (!graphPath || !dataArg) {
    print(`usage: mam ${TRAIN_USAGE}`);
    return EXIT_CODES.unreadable;
  }
  const log = (s: string) => process.stderr.write(s + '\n');
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
    return await runTraining(p, graphPath, dataArg, controller.signal, print, log);
  } catch (e) {
    if (e instanceof CliError) {
      process.stderr.write(`mam train: ${e.message}\n`);
      return e.code;
    }
    throw e;
  } finally {
    process.off('SIGINT', onSigint);
  }
}

async function runTraining(
  p: ReturnType<typeof parseArgs>,
  graphPath: string,
  dataArg: string,
  signal: AbortSignal,
  print: (s: string) => void,
  log: (s: string) => void,
): Promise<number> {
  const resume = p.flags.has('resume');
  const outFlag = flag(p, 'out');
  if (resume && !outFlag)
    throw new CliError(
      '--resume needs --out <run folder> (the run to continue)',
      EXIT_CODES.unreadable,
    );
  const stamp = new Date().toISOString().replace(/[-:]/g, '').replace(/\..*/, '').replace('T', '-');
  const runDir =
    outFlag ?? path.join('runs', `${path.basename(graphPath).replace(/\.json$/i, '')}-${stamp}`);
  const store = new FolderCheckpointStore(runDir);
  const existing = await store.load();
  if (!existing.ok)
    throw new CliError(
      `${runDir}: the checkpoint cannot be read: ${existing.message}`,
      EXIT_CODES.runFolder,
    );
  if (resume && !existing.checkpoint)
    throw new CliError(`${runDir} holds no checkpoint to resume`, EXIT_CODES.runFolder);
  if (!resume && existing.checkpoint) {
    throw new CliError(
      `${runDir} already holds a run (checkpoint at step ${existing.checkpoint.state.step}); pass --resume to continue it or choose another --out`,
      EXIT_CODES.runFolder,
    );
  }
  const ckpt = existing.checkpoint;

  const seedFlag = numberFlag(p, 'seed', { int: true });
  const compiled = await compileGraphFile(graphPath, ckpt?.state.settings.seed ?? seedFlag ?? 0);
  const meta = compiled.graph.metadata?.training ?? {};
  const seed = ckpt?.state.settings.seed ?? seedFlag ?? meta.seed ?? 0;
  // Compile again if the seed came from the graph's metadata (the weights' initialisation depends on it).
  const { model, plan, graph } =
    seed === (ckpt?.state.settings.seed ?? seedFlag ?? 0)
      ? compiled
      : (compiled.model.dispose(), await compileGraphFile(graphPath, seed));

  const backend = await initBackend(flag(p, 'backend') ?? 'auto');
  log(backend.message);

  const data = await loadDataArg(dataArg, seed);
  for (const w of data.warnings) log(`warning: ${w}`);
  checkClasses(data, plan.classNames, (s) => log(`warning: ${s}`));
  if (data.splits.train.length === 0)
    throw new CliError(`${dataArg}: the split leaves no training cases`, EXIT_CODES.emptyData);
  const fingerprint = dataFingerprint([
    ...data.splits.train,
    ...data.splits.val,
    ...data.splits.test,
  ]);

  let settings: TrainSettings;
  const normFlag = flag(p, 'normalise') as Normalisation | undefined;
  if (normFlag && !['auto', 'none', 'uint8', 'ct', 'percentile'].includes(normFlag))
    throw new CliError(
      `--normalise ${normFlag}: use auto, none, uint8, ct or percentile`,
      EXIT_CODES.unreadable,
    );
  const normalisation = ckpt?.state.settings.normalisation ?? normFlag ?? 'auto';
  let slices;
  try {
    slices = data.splits.train.flatMap((c) => caseSlices(c, normalisation));
  } catch (e) {
    throw new CliError((e as Error).message, EXIT_CODES.badData);
  }
  if (ckpt) {
    settings = ckpt.state.settings;
    if (ckpt.state.dataFingerprint !== fingerprint) {
      throw new CliError(
        `${runDir} was trained on other data (fingerprint ${ckpt.state.dataFingerprint}, now ${fingerprint}); resume with the same --data`,
        EXIT_CODES.runFolder,
      );
    }
    const ignored = [
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
    ].filter((f) => p.flags.has(f));
    if (ignored.length)
      log(
        `note: resuming with the run's own settings; ignored ${ignored.map((f) => `--${f}`).join(', ')}`,
      );
    log(`resuming ${runDir} at step ${ckpt.state.step} of ${settings.steps}`);
  } else {
    const batch = numberFlag(p, 'batch', { int: true, min: 1 }) ?? meta.batchSize ?? 8;
    const kind = (flag(p, 'optimizer') ?? meta.optimizer ?? 'sgd') as 'sgd' | 'adamw';
    if (kind !== 'sgd' && kind !== 'adamw')
      throw new CliError(`--optimizer ${String(kind)}: use sgd or adamw`, EXIT_CODES.unreadable);
    const baseLr =
      numberFlag(p, 'lr', { min: 0 }) ?? meta.learningRate ?? (kind === 'sgd' ? 0.05 : 1e-3);
    const effBatch = Math.min(batch, slices.length);
    const spe = stepsPerEpoch(slices.length, effBatch);
    const steps =
      numberFlag(p, 'steps', { int: true, min: 1 }) ??
      (numberFlag(p, 'epochs', { int: true, min: 1 }) ?? meta.epochs ?? 30) * spe;
    const convention = (flag(p, 'metrics') ??
      meta.metricConvention ??
      'synapse') as MetricConvention;
    if (convention !== 'synapse' && convention !== 'monai')
      throw new CliError(
        `--metrics ${String(convention)}: use synapse or monai`,
        EXIT_CODES.unreadable,
      );
    settings = {
      batchSize: batch,
      steps,
      learningRate: kind === 'sgd' ? scaleLrForBatch(baseLr, effBatch) : baseLr,
      schedule: 'poly',
      optimizer: optimizerSettings(kind),
      seed,
      valEvery: numberFlag(p, 'val-every', { int: true, min: 0 }) ?? spe,
      checkpointEvery: numberFlag(p, 'checkpoint-every', { int: true, min: 0 }) ?? 0,
      patience: numberFlag(p, 'patience', { int: true, min: 0 }) ?? 0,
      augment: p.flags.has('no-augment') ? false : (meta.augment ?? true),
      convention,
      normalisation,
    };
    log(
      `training ${path.basename(graphPath)} on ${data.source}: ${slices.length} slices, batch ${effBatch}, ${steps} steps (${spe} per epoch), ` +
        `${kind} lr ${settings.learningRate.toPrecision(3)}${kind === 'sgd' ? ` (${baseLr} at batch 24, scaled ×${effBatch}/24)` : ''}, poly schedule, seed ${seed} → ${runDir}`,
    );
  }
  await mkdir(runDir, { recursive: true });
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
    tfjs: tf.version.tfjs,
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
      classNames: plan.classNames,
      ...(data.note ? { note: data.note } : {}),
    },
    metricConvention: settings.convention,
    settings,
  };
  await writeAtomic(path.join(runDir, 'run.json'), JSON.stringify(runInfo, null, 2) + '\n');

  const historyFile = path.join(runDir, 'history.csv');
  const cliStore = {
    save: async (c: Parameters<FolderCheckpointStore['save']>[0]) => {
      const where = await store.save(c);
      await writeAtomic(historyFile, historyToCsv(c.state.history, plan.classNames));
      return where;
    },
    saveBest: (w: Uint8Array) => store.saveBest(w),
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
          process.stderr.write(`\r\x1b[K[${'#'.repeat(done)}${'.'.repeat(width - done)}] ${text}`);
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
  } catch (e) {
    clearBar();
    if (/another graph|optimizer state/.test((e as Error).message))
      throw new CliError(`${runDir}: ${(e as Error).message}`, EXIT_CODES.badWeights);
    throw e;
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
    await writeAtomic(path.join(runDir, 'metrics.json'), JSON.stringify(metrics, null, 2) + '\n');
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
      batchSize: Math.max(4, settings.batchSize),
    });
    metrics.test = {
      weights: 'best.safetensors',
      summary: report.summary,
      ruleCounts: report.ruleCounts,
    };
    await writeAtomic(path.join(runDir, 'test-metrics.csv'), report.csv);
    print(
      `test split (${data.splits.test.length} volume${data.splits.test.length === 1 ? '' : 's'}, best weights):`,
    );
    print(formatReport(report, data.note));
  }
  await writeAtomic(path.join(runDir, 'metrics.json'), JSON.stringify(metrics, null, 2) + '\n');
  print(
    `run folder: ${runDir} (checkpoint/, best.safetensors, history.csv, metrics.json, run.json)`,
  );
  model.dispose();
  return 0;
}
