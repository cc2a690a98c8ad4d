/**
 * `mam ablate <base.json> --data <dir|demo> --out <dir> …`: the paper's
 * ablation from one base graph. Derives each variant with the conversions
 * (src/ablate/variants.ts), trains each with the same data, split, settings
 * and seeds, tests on the test split and writes ablation.md / .csv / .json
 * (src/ablate/runner.ts). Run again with the same --out to continue: finished
 * runs are skipped, an interrupted one resumes from its checkpoint.
 */
import * as path from 'node:path';
import { catalogue } from '../../nodes/index.ts';
import { kernels } from '../compile/kernels/index.ts';
import { localEngine, runAblation, type AblationEngine } from '../ablate/runner.ts';
import { conventionNote } from '../ablate/table.ts';
import { checkTorchPython, defaultPython, torchEngine } from '../ablate/torch-engine.ts';
import {
  deriveAblation,
  LAYOUTS,
  MERGE_MODES,
  VARIANTS,
  type MergeMode,
  type VariantName,
} from '../ablate/variants.ts';
import { loadGraph } from '../graph/load.ts';
import type { MemoryLayout } from '../graph/node-kind.ts';
import { COMMON_FLAGS, type Parsed, type VerbSpec } from './args.ts';
import { EXIT_CODES, SessionError } from './errors.ts';
import { readBytes, startBackend } from './load-model.ts';
import type { CliIO } from './main.ts';
import { codeVersion, formatDuration, withInterrupt } from './train.ts';
import { checkClasses, loadDataArg } from './train-data.ts';

const list = (what: string, choices: readonly string[]) =>
  ({ kind: 'string', value: `<${choices.join(',')}>`, help: `${what}, comma-separated` }) as const;

export const ABLATE_SPEC = {
  verb: 'ablate',
  positionals: ['<base.json>'],
  flags: {
    data: { kind: 'string', value: '<dir|demo>', required: true, help: 'the data set' },
    out: {
      kind: 'string',
      value: '<dir>',
      required: true,
      help: 'the ablation folder (run again to continue)',
    },
    variants: list('variants (default: every one that applies to the graph)', VARIANTS),
    layouts: list('memory layouts of the MAM variants (default window)', LAYOUTS),
    merge: list('Memory Merging modes of the STS variants (default conv)', MERGE_MODES),
    seeds: {
      kind: 'int',
      value: '<N>',
      min: 1,
      max: 100,
      help: 'seeds per variant, 0…N−1 (default 3)',
    },
    steps: { kind: 'int', value: '<N>', min: 1, help: 'steps per run (instead of --epochs)' },
    epochs: {
      kind: 'int',
      value: '<N>',
      min: 1,
      help: "epochs per run (default: the graph's, else 30)",
    },
    backend: COMMON_FLAGS.backend,
    engine: {
      kind: 'string',
      value: '<name>',
      choices: ['local', 'torch'],
      help: 'local: tfjs here; torch: the PyTorch runtime (python/mam_torch)',
    },
    python: {
      kind: 'string',
      value: '<path>',
      help: 'the Python of --engine torch (default .venv/bin/python if present, else python3)',
    },
    nproc: {
      kind: 'int',
      value: '<N>',
      min: 1,
      help: 'processes per run with --engine torch (torch.distributed.run when > 1)',
    },
    metrics: COMMON_FLAGS.metrics,
    'no-augment': { kind: 'boolean', help: 'train without augmentation' },
  },
  summary: "train the paper's ablation variants of a graph over seeds and write its table",
} as const satisfies VerbSpec;

type AblateArgs = Parsed<typeof ABLATE_SPEC>;

/** A comma list flag, each item checked against its set (a usage error naming the flag and item). */
export function parseList<T extends string>(
  flag: string,
  value: string | undefined,
  choices: readonly T[],
  fallback: readonly T[],
): T[] {
  if (value === undefined) return [...fallback];
  const items = value.split(',').map((s) => s.trim());
  const bad = items.find((s) => !(choices as readonly string[]).includes(s));
  if (bad !== undefined || items.length === 0)
    throw new SessionError(
      `--${flag}: '${bad ?? value}' is not one of ${choices.join(', ')}`,
      EXIT_CODES.usage,
    );
  return [...new Set(items)] as T[];
}

export function ablateCommand(p: AblateArgs, io: CliIO): Promise<number> {
  return withInterrupt('mam ablate', io.log, (signal) => runAblate(p, signal, io));
}

async function runAblate(
  p: AblateArgs,
  signal: AbortSignal,
  { print, log }: CliIO,
): Promise<number> {
  const f = p.flags;
  const variants = parseList<VariantName>('variants', f.variants, VARIANTS, VARIANTS);
  const layouts = parseList<MemoryLayout>('layouts', f.layouts, LAYOUTS, ['window']);
  const merges = parseList<MergeMode>('merge', f.merge, MERGE_MODES, ['conv']);
  const torch = f.engine === 'torch';
  // Flags of the other engine would be ignored without a word: refused instead.
  const foreign = torch
    ? (['backend'] as const).find((k) => f[k] !== undefined)
    : (['python', 'nproc'] as const).find((k) => f[k] !== undefined);
  if (foreign !== undefined)
    throw new SessionError(
      `--${foreign} applies to --engine ${torch ? 'local' : 'torch'} only`,
      EXIT_CODES.usage,
    );
  const python = f.python ?? defaultPython();
  if (torch) await checkTorchPython(python);
  const graphPath = p.positionals[0];
  const text = new TextDecoder().decode(await readBytes(graphPath, 'graph file'));
  const loaded = loadGraph(text, catalogue);
  if (!loaded.ok)
    throw new SessionError(
      `${graphPath} cannot be opened: ${loaded.issues[0]?.path}: ${loaded.issues[0]?.message}`,
      EXIT_CODES.unreadable,
    );
  const derived = deriveAblation(
    loaded.graph,
    { variants, layouts, merges, explicit: f.variants !== undefined },
    catalogue,
  );
  if ('error' in derived)
    throw new SessionError(`${graphPath}: ${derived.error}`, EXIT_CODES.graphErrors);
  if (derived.skipped.length) for (const s of derived.skipped) log(`note: left out ${s}`);
  if (!derived.rows.length)
    throw new SessionError(`${graphPath}: no ablation variant applies`, EXIT_CODES.graphErrors);
  const seeds = Array.from({ length: f.seeds ?? 3 }, (_, i) => i);
  const classNames = derived.rows[0].graph.nodes.find((n) => n.type === 'output')?.params
    .classNames as string[] | undefined;
  // One split for every run: the data is loaded once, with the first seed's split.
  const data = await loadDataArg(f.data as string, seeds[0]);
  for (const w of data.warnings) log(`warning: ${w}`);
  if (!data.splits.test.length)
    throw new SessionError(
      `${f.data as string} has no test split (imagesTs/ + labelsTs/, or "test" in split.json): an ablation compares variants on it`,
      EXIT_CODES.emptyData,
    );
  checkClasses(data, classNames ?? data.classNames, (s) => log(`warning: ${s}`));
  const engine: AblationEngine = torch
    ? torchEngine({ python, dataArg: f.data as string, nproc: f.nproc })
    : localEngine(
        await startBackend(f.backend ?? 'auto', log),
        catalogue,
        kernels,
        await codeVersion(),
      );
  const out = f.out as string;
  log(
    `ablation of ${graphPath}: ${derived.rows.map((r) => r.key).join(', ')} × seeds ${seeds.join(', ')} → ${out}`,
  );
  const started = Date.now();
  let lastStep = 0;
  const { table, reason } = await runAblation(
    {
      rows: derived.rows,
      seeds,
      data,
      out,
      engine,
      classNames: classNames ?? data.classNames,
      signal,
      overrides: {
        steps: f.steps,
        epochs: f.epochs,
        convention: f.metrics,
        augment: f['no-augment'] ? false : undefined,
      },
    },
    (e) => {
      switch (e.type) {
        case 'run-skip':
          print(`[${e.index}/${e.total}] ${e.key} seed ${e.seed}: finished earlier, skipped`);
          break;
        case 'run-start':
          print(`[${e.index}/${e.total}] ${e.key} seed ${e.seed}${e.resumed ? ': resuming' : ''}`);
          break;
        case 'step':
          if (e.step === e.totalSteps || e.step - lastStep >= Math.max(1, e.totalSteps / 10)) {
            lastStep = e.step;
            print(
              `  step ${e.step}/${e.totalSteps} loss ${e.loss.toFixed(4)} ETA ${formatDuration(e.etaSec)}`,
            );
          }
          if (e.step === 1) lastStep = 1;
          break;
        case 'run-done':
          lastStep = 0;
          print(
            `  ${e.key} seed ${e.seed}: ${e.reason}${e.result ? `, test mean Dice ${e.result.meanDice.toFixed(4)}` : ''}`,
          );
          break;
        case 'log':
          log(`  ${e.message}`);
          break;
      }
    },
  );
  const elapsed = formatDuration((Date.now() - started) / 1000);
  if (reason === 'aborted') {
    log(
      `stopped after ${elapsed}; continue with the same command (finished runs are skipped, this one resumes)`,
    );
    return EXIT_CODES.interrupted;
  }
  if (reason === 'diverged') {
    log(
      'a run diverged (the loss became NaN or infinite); its checkpoint is kept. Try a lower learning rate.',
    );
    return EXIT_CODES.diverged;
  }
  print(`${conventionNote(table)}`);
  print(`done in ${elapsed}: ${path.join(out, 'ablation.md')}, ablation.csv, ablation.json`);
  return EXIT_CODES.ok;
}
