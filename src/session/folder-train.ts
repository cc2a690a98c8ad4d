/**
 * A training run into a run folder (what `mam train` does, headless): checks
 * everything (data against the graph, a resumed checkpoint against the
 * weights, optimizer and data) before the folder changes, resolves the
 * settings, writes run.json, trains with checkpoints and the best weights,
 * and tests the best weights on the test split. Progress is told as typed
 * events; the caller (the CLI) draws them and chooses the exit code.
 */
import { readFile } from 'node:fs/promises';
import * as path from 'node:path';
import * as tf from '#tfjs';
import type { BackendInfo } from '../backend/types.ts';
import type { CompiledModel } from '../compile/model.ts';
import type { Plan } from '../compile/plan.ts';
import { loadWeights, weightFingerprint } from '../compile/weights.ts';
import { describeResize, resizeRecords } from '../data/prepare.ts';
import type { Case } from '../data/types.ts';
import type { GraphDoc } from '../graph/types.ts';
import type { Checkpoint, TrainSettings } from '../train/checkpoint.ts';
import { evaluateCases, formatReport } from '../train/evaluate.ts';
import { train, type TrainEvent, type TrainResult } from '../train/loop.ts';
import { decodeOptimizerState, optimizerStateMismatch } from '../train/optim.ts';
import type { Sample2D } from '../train/augment.ts';
import { caseSlices, dataFingerprint, type DataSplit } from '../train/samples.ts';
import { volumeInput } from '../train/volume-batches.ts';
import { formatDims } from '../data/types.ts';
import { EXIT_CODES, SessionError } from './errors.ts';
import { channelIssues } from './open-data.ts';
import type { RunFolder } from './run-folder.ts';
import { runInfo } from './run-info.ts';
import { resolveRun, resolveVolumeRun, type SettingsOverrides } from './settings.ts';
import { describeVolumeAugment } from '../data/volume-augment.ts';
import { checkLayout, type DataLayout } from './data-layout.ts';

/** A data set split for a run, as the CLI's `--data` loads it. */
export interface RunData {
  kind: 'demo' | 'folder';
  source: string;
  /** The data's class table (the graph's must match it). */
  classNames: string[];
  splits: DataSplit;
  /** How the split was made, for run.json and messages. */
  splitRule: string;
  /** "single-subject demo, not a benchmark" for the demo. */
  note?: string;
  /** Which graphs it suits (absent: either); see checkLayout. */
  layout?: DataLayout;
  warnings: string[];
}

export interface FolderTrainRequest {
  /** The graph file, for run.json and messages. */
  graphFile: string;
  /** The data as the user named it, for messages. */
  dataArg: string;
  graph: GraphDoc;
  plan: Plan;
  model: CompiledModel;
  backend: BackendInfo;
  data: RunData;
  folder: RunFolder;
  /** The folder's checkpoint to resume (its own settings win over `overrides`). */
  resume: Checkpoint | null;
  overrides: SettingsOverrides;
  seed: number;
  /** What run.json records as the code's version. */
  code: string;
  signal?: AbortSignal;
}

export type FolderTrainEvent =
  | TrainEvent
  /** A note for the log (what is trained how, resizing, warnings). */
  | { type: 'log'; message: string }
  /** The test split's table, after training. */
  | { type: 'report'; text: string };

export interface FolderTrainResult {
  reason: TrainResult['reason'];
  step: number;
  settings: TrainSettings;
}

/** Channels of every case fit the graph's input (equal, or one channel repeated). */
function checkChannels(cases: Case[], want: number): void {
  const [first] = channelIssues(cases, want);
  if (first) throw new SessionError(first.message, EXIT_CODES.badData);
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
    const params = model.trainedByKey;
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

export async function trainInFolder(
  req: FolderTrainRequest,
  onEvent: (e: FolderTrainEvent) => void,
): Promise<FolderTrainResult> {
  const { plan, model, data, folder, resume: ckpt, seed } = req;
  const runDir = folder.dir;
  const log = (message: string) => onEvent({ type: 'log', message });
  if (data.splits.train.length === 0)
    throw new SessionError(
      `${req.dataArg}: the split leaves no training cases`,
      EXIT_CODES.emptyData,
    );
  const allCases = [...data.splits.train, ...data.splits.val, ...data.splits.test];
  checkLayout(plan, data.layout, req.dataArg);
  const vol = volumeInput(plan);
  const [, inH, inW, inC] = plan.input.shape;
  checkChannels(allCases, vol ? vol.channels : inC);
  const fingerprint = dataFingerprint(allCases);

  const normalisation = ckpt?.state.settings.normalisation ?? req.overrides.normalisation ?? 'auto';
  let slices: Sample2D[] = [];
  try {
    // a 3D graph trains on crops of whole volumes (src/train/volume-batches.ts)
    if (!vol) slices = data.splits.train.flatMap((c) => caseSlices(c, normalisation));
  } catch (e) {
    throw new SessionError((e as Error).message, EXIT_CODES.badData);
  }
  const nTrain = data.splits.train.length;
  const what = vol
    ? `${nTrain} volume${nTrain === 1 ? '' : 's'} (crops of ${formatDims(vol.roi)})`
    : `${slices.length} slices`;
  let settings: TrainSettings;
  if (ckpt) {
    settings = ckpt.state.settings;
    if (ckpt.state.dataFingerprint !== fingerprint) {
      throw new SessionError(
        `${runDir} was trained on other data (fingerprint ${ckpt.state.dataFingerprint}, now ${fingerprint}); resume with the same --data`,
        EXIT_CODES.runFolder,
      );
    }
    checkResumable(runDir, model, ckpt);
    log(`resuming ${runDir} at step ${ckpt.state.step} of ${settings.steps}`);
  } else {
    const o = { ...req.overrides, seed, normalisation };
    const r = vol
      ? resolveVolumeRun(req.graph.metadata?.training, o, nTrain, vol.roi)
      : resolveRun(req.graph.metadata?.training, o, slices.length);
    settings = r.settings;
    if (r.volume) {
      const { augment, validation: v, test: t } = r.volume;
      log(`augmentation of volumes: ${describeVolumeAugment(augment.value)} (${augment.from})`);
      log(
        `sliding windows: validation overlap ${v.value.overlap}, ${v.value.batchSize} per pass (${v.from}); test overlap ${t.value.overlap}, ${t.value.batchSize} per pass (${t.from})`,
      );
    }
    const kind = r.base.optimizer.value;
    const batch = r.effectiveBatch;
    log(
      `training ${path.basename(req.graphFile)} on ${data.source}: ${what}, batch ${batch}, ${settings.steps} steps (${r.stepsPerEpoch} per epoch), ` +
        `${kind} lr ${settings.learningRate.toPrecision(3)}${kind === 'sgd' ? ` (${r.base.learningRate.value} at batch 24, scaled ×${batch}/24)` : ''}, ${settings.schedule} schedule, loss ${r.loss.value.ce}·CE + ${r.loss.value.dice}·Dice (${r.loss.from}${vol ? ", MONAI's DiceCE" : ''}), seed ${seed} → ${runDir}`,
    );
  }
  const resized = vol ? [] : resizeRecords(slices, [inH, inW], settings.resize ?? 'stretch');
  for (const r of resized) log(`resizing ${describeResize(r)}`);

  // Everything is checked: only now does the run folder change.
  await folder.create();
  await folder.writeJson(
    'run.json',
    runInfo({
      graphFile: path.resolve(req.graphFile),
      graph: req.graph,
      weightsFingerprint: weightFingerprint(model),
      code: req.code,
      tfjs: tf.version_core,
      backend: req.backend,
      data: { ...data, fingerprint, classNames: plan.classNames },
      settings,
      input: vol ? { crop: vol.roi } : { size: [inH, inW], slices: slices.length, resized },
    }),
  );

  const result = await train({
    model,
    data: {
      classNames: plan.classNames,
      train: slices,
      ...(vol ? { volumes: data.splits.train } : {}),
      val: data.splits.val,
      fingerprint,
    },
    settings,
    signal: req.signal,
    onEvent,
    checkpoint: folder.checkpointStore(plan.classNames),
    ...(ckpt ? { resume: ckpt } : {}),
  });

  const metrics: Record<string, unknown> = {
    convention: settings.convention,
    ...(data.note ? { note: data.note } : {}),
    step: result.step,
    reason: result.reason,
    best: result.state.best,
    lastValidation: result.state.lastValidation,
  };
  const done = { reason: result.reason, step: result.step, settings };
  if (result.reason === 'aborted') {
    await folder.writeJson('metrics.json', metrics);
    return done;
  }
  if (result.reason === 'diverged') return done;
  if (data.splits.test.length) {
    try {
      const best = await readFile(folder.bestFile);
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
      // a 3D graph: its test windows (older runs: overlap 0.5, as many windows as before)
      batchSize: settings.testWindow?.batchSize ?? Math.max(4, settings.batchSize),
      ...(settings.testWindow ? { overlap: settings.testWindow.overlap } : {}),
    });
    metrics.test = {
      weights: 'best.safetensors',
      summary: report.summary,
      ruleCounts: report.ruleCounts,
    };
    await folder.writeFile('test-metrics.csv', report.csv);
    const n = data.splits.test.length;
    onEvent({
      type: 'report',
      text: `test split (${n} volume${n === 1 ? '' : 's'}, best weights):\n${formatReport(report, data.note)}`,
    });
  }
  await folder.writeJson('metrics.json', metrics);
  return done;
}
