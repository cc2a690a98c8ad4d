/**
 * `mam eval <graph.json> --weights w.safetensors --data <dir|demo|demo3d> [--metrics synapse|monai] [--json] [--split test] [--out dir]`:
 * slice-wise inference over whole volumes (a 3D graph: sliding windows), per-class Dice/HD95 under one named
 * convention; with --out, predictions as .nii.gz (input voxel order and affine) and the per-case CSV.
 */
import * as path from 'node:path';
import { predictionFileName, writePredictionNifti } from '../data/nifti.ts';
import { describeResize, resizeRecords } from '../data/prepare.ts';
import type { Case } from '../data/types.ts';
import { evaluateCases, formatReport } from '../train/evaluate.ts';
import { COMMON_FLAGS, type Parsed, type VerbSpec } from './args.ts';
import { SessionError, EXIT_CODES, makeOutputDir, writeOutput } from './errors.ts';
import { applyWeightsFile, compileGraphFile, startBackend } from './load-model.ts';
import type { CliIO } from './main.ts';
import { checkClasses, loadDataArg } from './train-data.ts';
import { checkLayout } from '../session/data-layout.ts';
import { caseShape, volumeInput } from '../train/volume-batches.ts';
import { formatDims } from '../data/types.ts';
import { describeWindow, resolveTestWindow, type Resolved } from '../session/settings.ts';
import { windowGrid, type BlendMode } from '../train/sliding-window.ts';
import type { Shape3 } from '../data/volume-crops.ts';
import type { SlidingWindowSettings } from '../graph/types.ts';

export const EVAL_SPEC = {
  verb: 'eval',
  positionals: ['<graph.json>'],
  flags: {
    weights: {
      kind: 'string',
      value: '<w.safetensors>',
      required: true,
      help: 'a mam-studio checkpoint or a PyTorch state dict',
    },
    data: {
      kind: 'string',
      value: '<dir|demo|demo3d>',
      required: true,
      help: 'the data set (demo3d: volumes, for 3D graphs)',
    },
    split: {
      kind: 'string',
      value: '<split>',
      choices: ['test', 'val', 'train', 'all'],
      help: 'which cases (default test)',
    },
    metrics: COMMON_FLAGS.metrics,
    normalise: COMMON_FLAGS.normalise,
    resize: {
      ...COMMON_FLAGS.resize,
      help: `${COMMON_FLAGS.resize.help} (default: the rule the weights were trained with, else stretch)`,
    },
    batch: {
      kind: 'int',
      value: '<N>',
      min: 1,
      help: "slices (3D graphs: windows) per forward pass (default 8; 3D: the graph's metadata.training.slidingWindow.test, else 4)",
    },
    overlap: COMMON_FLAGS.overlap,
    blend: COMMON_FLAGS.blend,
    out: {
      kind: 'string',
      value: '<dir>',
      help: 'write predictions/*.nii.gz, metrics.csv, metrics.json',
    },
    json: { kind: 'boolean', help: 'the report as JSON' },
    'allow-partial': COMMON_FLAGS['allow-partial'],
    backend: COMMON_FLAGS.backend,
    threads: COMMON_FLAGS.threads,
  },
  summary: 'Dice/HD95 per class over whole volumes',
} as const satisfies VerbSpec;

/**
 * The sliding windows of a 3D evaluation: the settings (with where the overlap
 * and windows per pass come from) and, per case, the windows along each axis
 * `[D, H, W]`, their number and the forward passes they take.
 */
export function slidingWindowReport(
  roi: Shape3,
  sw: Resolved<SlidingWindowSettings>,
  blend: BlendMode,
  cases: readonly Case[],
) {
  const { overlap, batchSize } = sw.value;
  return {
    roi,
    overlap,
    windowsPerPass: batchSize,
    blend,
    from: sw.from,
    cases: cases.map((c) => {
      const shape = caseShape(c);
      const g = windowGrid(shape, roi, overlap);
      return {
        case: c.id,
        shape,
        windows: g.starts.map((s) => s.length),
        total: g.count,
        passes: Math.ceil(g.count / batchSize),
      };
    }),
  };
}

/** The text output's lines for the windows: the settings, then each case's windows. */
export function formatWindows(w: ReturnType<typeof slidingWindowReport>): string {
  const head = `sliding windows of ${formatDims(w.roi)}: overlap ${w.overlap}, ${w.windowsPerPass} windows per pass (${w.from}), ${w.blend} blending`;
  const rows = w.cases.map(
    (c) =>
      `  ${c.case} (${formatDims(c.shape)}): ${c.windows.join('×')} = ${c.total} windows in ${c.passes} pass${c.passes === 1 ? '' : 'es'}`,
  );
  return [head, ...rows].join('\n');
}

/** Each case once, by id (a single-case folder validates on its training case: both lists hold it). */
export function distinctCases(lists: Case[][]): Case[] {
  const seen = new Set<string>();
  return lists.flat().filter((c) => !seen.has(c.id) && Boolean(seen.add(c.id)));
}

export async function evalCommand(
  p: Parsed<typeof EVAL_SPEC>,
  { print, log, kernels }: CliIO,
): Promise<number> {
  const graphPath = p.positionals[0];
  const { weights, data: dataArg } = p.flags as { weights: string; data: string };
  const convention = p.flags.metrics ?? 'synapse';
  const split = p.flags.split ?? 'test';
  const { graph, model, plan } = await compileGraphFile(graphPath, 0, kernels);
  const vol = volumeInput(plan);
  const sw = resolveTestWindow(graph.metadata?.training, p.flags);
  try {
    await startBackend(p.flags.backend ?? 'auto', log, p.flags.threads);
    const meta = await applyWeightsFile(model, weights, log, {
      allowPartial: p.flags['allow-partial'],
    });
    const resize = p.flags.resize ?? (meta.resize === 'pad' ? 'pad' : 'stretch');
    const data = await loadDataArg(dataArg, 0);
    for (const w of data.warnings) log(`warning: ${w}`);
    checkClasses(data, plan.classNames, (s) => log(`warning: ${s}`));
    checkLayout(plan, data.layout, dataArg);
    const { train, val, test } = data.splits;
    let cases = split === 'all' ? distinctCases([train, val, test]) : data.splits[split];
    if (cases.length === 0 && split === 'test' && data.kind === 'folder') {
      log(
        'warning: the data has no test split (imagesTs/labelsTs or split.json "test"); evaluating every labelled case',
      );
      cases = distinctCases([train, val]);
    }
    if (cases.length === 0)
      throw new SessionError(`${dataArg} has no cases in split '${split}'`, EXIT_CODES.emptyData);
    const [, inH, inW] = plan.input.shape;
    const sizes = cases.map((c) => {
      const [w, h, d] = c.channels[0].dims;
      return { height: h ?? 1, width: w, count: d ?? 1 };
    });
    const blend = p.flags.blend ?? 'constant';
    const windows = vol && slidingWindowReport(vol.roi, sw, blend, cases);
    if (vol)
      log(
        `whole volumes by sliding windows of ${formatDims(vol.roi)}, ${describeWindow(sw)}, ${blend} blending`,
      );
    else
      for (const r of resizeRecords(sizes, [inH, inW], resize))
        log(`resizing ${describeResize(r)}`);
    const out = p.flags.out;
    if (out) await makeOutputDir(path.join(out, 'predictions'), 'output folder');
    const report = await evaluateCases(model, cases, {
      classNames: plan.classNames,
      convention,
      normalisation: p.flags.normalise ?? 'auto',
      resize,
      batchSize: vol ? sw.value.batchSize : (p.flags.batch ?? 8),
      overlap: sw.value.overlap,
      blend,
      onPrediction: out
        ? async (c, labels) => {
            await writeOutput(
              path.join(out, 'predictions', predictionFileName(c.id)),
              writePredictionNifti(labels, c),
              'prediction',
            );
          }
        : undefined,
      onCase: (s, i, n) => log(`evaluated ${s.caseId} (${i + 1}/${n})`),
    });
    const json = {
      convention: report.convention,
      hd95Unit: report.hd95Unit,
      split,
      ...(data.note ? { note: data.note } : {}),
      ...(windows ? { slidingWindow: windows } : { resize }),
      summary: report.summary,
      ruleCounts: report.ruleCounts,
      cases: report.cases,
    };
    if (out) {
      await writeOutput(path.join(out, 'metrics.csv'), report.csv, 'metrics');
      await writeOutput(
        path.join(out, 'metrics.json'),
        JSON.stringify(json, null, 2) + '\n',
        'metrics',
      );
      log(`wrote ${out}/predictions/*.nii.gz, metrics.csv, metrics.json`);
    }
    if (p.flags.json)
      print(
        JSON.stringify(
          json,
          (_k, v: unknown) => (typeof v === 'number' && !Number.isFinite(v) ? String(v) : v),
          2,
        ),
      );
    else {
      print(`split ${split} of ${data.source}`);
      if (windows) print(formatWindows(windows));
      print(formatReport(report, data.note));
    }
    return EXIT_CODES.ok;
  } finally {
    model.dispose();
  }
}
