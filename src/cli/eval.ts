/**
 * `mam eval <graph.json> --weights w.safetensors --data <dir|demo> [--metrics synapse|monai] [--json] [--split test] [--out dir]`:
 * slice-wise inference over whole volumes, per-class Dice/HD95 under one named
 * convention; with --out, predictions as .nii.gz (input voxel order and affine) and the per-case CSV.
 */
import { mkdir, writeFile } from 'node:fs/promises';
import * as path from 'node:path';
import { initBackend } from '../backend/index.ts';
import { writeLabelNifti } from '../data/nifti.ts';
import type { Case } from '../data/types.ts';
import { evaluateCases, formatReport } from '../train/evaluate.ts';
import type { MetricConvention } from '../train/metrics.ts';
import type { Normalisation } from '../train/samples.ts';
import { flag, parseArgs } from './args.ts';
import { CliError, EXIT_CODES, applyWeightsFile, compileGraphFile } from './load-model.ts';
import { checkClasses, loadDataArg } from './train-data.ts';

export const EVAL_USAGE =
  'eval <graph.json> --weights w.safetensors --data <dir|demo> [--metrics synapse|monai] [--split test|val|train|all] [--json] [--out dir] [--backend auto|webgpu|wasm|cpu]';

export async function evalCommand(args: string[], print: (s: string) => void): Promise<number> {
  const p = parseArgs(args, ['json']);
  const graphPath = p.positional[0];
  const weights = flag(p, 'weights');
  const dataArg = flag(p, 'data');
  if (!graphPath || !weights || !dataArg) {
    print(`usage: mam ${EVAL_USAGE}`);
    return EXIT_CODES.unreadable;
  }
  const log = (s: string) => process.stderr.write(s + '\n');
  try {
    const convention = (flag(p, 'metrics') ?? 'synapse') as MetricConvention;
    if (convention !== 'synapse' && convention !== 'monai')
      throw new CliError(`--metrics ${convention}: use synapse or monai`, EXIT_CODES.unreadable);
    const split = flag(p, 'split') ?? 'test';
    if (!['test', 'val', 'train', 'all'].includes(split))
      throw new CliError(`--split ${split}: use test, val, train or all`, EXIT_CODES.unreadable);
    const { model, plan } = await compileGraphFile(graphPath);
    const backend = await initBackend(flag(p, 'backend') ?? 'auto');
    log(backend.message);
    await applyWeightsFile(model, weights, log);
    const data = await loadDataArg(dataArg, 0);
    for (const w of data.warnings) log(`warning: ${w}`);
    checkClasses(data, plan.classNames, (s) => log(`warning: ${s}`));
    let cases: Case[] =
      split === 'all'
        ? [...data.splits.train, ...data.splits.val, ...data.splits.test]
        : data.splits[split as 'test' | 'val' | 'train'];
    if (cases.length === 0 && split === 'test' && data.kind === 'folder') {
      log(
        'warning: the data has no test split (imagesTs/labelsTs or split.json "test"); evaluating every labelled case',
      );
      cases = [...data.splits.train, ...data.splits.val];
    }
    if (cases.length === 0)
      throw new CliError(`${dataArg} has no cases in split '${split}'`, EXIT_CODES.emptyData);
    const out = flag(p, 'out');
    if (out) await mkdir(path.join(out, 'predictions'), { recursive: true });
    const report = await evaluateCases(model, cases, {
      classNames: plan.classNames,
      convention,
      normalisation: (flag(p, 'normalise') ?? 'auto') as Normalisation,
      batchSize: Number(flag(p, 'batch') ?? 8),
      onPrediction: out
        ? async (c, labels) => {
            const like = c.label ?? {
              dims: c.channels[0].dims,
              affine: c.channels[0].affine,
              spacing: c.channels[0].spacing,
            };
            await writeFile(
              path.join(out, 'predictions', `${c.id.replace(/[^\w.-]+/g, '_')}.nii.gz`),
              writeLabelNifti(labels, like),
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
      summary: report.summary,
      ruleCounts: report.ruleCounts,
      cases: report.cases,
    };
    if (out) {
      await writeFile(path.join(out, 'metrics.csv'), report.csv);
      await writeFile(path.join(out, 'metrics.json'), JSON.stringify(json, null, 2) + '\n');
      log(`wrote ${out}/predictions/*.nii.gz, metrics.csv, metrics.json`);
    }
    if (p.flags.has('json'))
      print(
        JSON.stringify(
          json,
          (_k, v) => (typeof v === 'number' && !Number.isFinite(v) ? String(v) : v),
          2,
        ),
      );
    else {
      print(`split ${split} of ${data.source}`);
      print(formatReport(report, data.note));
    }
    model.dispose();
    return 0;
  } catch (e) {
    if (e instanceof CliError) {
      process.stderr.write(`mam eval: ${e.message}\n`);
      return e.code;
    }
    throw e;
  }
}
