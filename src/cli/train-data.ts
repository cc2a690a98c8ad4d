/**
 * `--data <dir|demo>` for train and eval: the demo set, or a folder in one of
 * the layouts src/data reads (Synapse npz/h5, PNG image+mask, NIfTI
 * imagesTr/labelsTr [+ imagesTs/labelsTs]), split into train/val/test, checked
 * against the graph's class table; each failure a SessionError with its own code.
 */
import { stat } from 'node:fs/promises';
import { loadDemo } from '../data/demo.ts';
import { largestLabel, loadNiftiFolder, loadPngFolder, loadSynapse } from '../data/dataset.ts';
import { demoDataDir, nodeFileSource } from '../data/node-fs.ts';
import type { Case, DataIssue, DataProblem, DataSetResult } from '../data/types.ts';
import { readFile } from 'node:fs/promises';
import * as path from 'node:path';
import { splitCases, type DataSplit } from '../train/samples.ts';
import type { RunData } from '../session/folder-train.ts';
import { SessionError, EXIT_CODES, type ExitCode } from './errors.ts';

/** What `--data` loads: the session's run data. */
export type LoadedData = RunData;

const PROBLEM_CODES: Record<DataProblem, ExitCode> = {
  empty: EXIT_CODES.emptyData,
  sizeMismatch: EXIT_CODES.sizeMismatch,
  labelRange: EXIT_CODES.labelRange,
  bad: EXIT_CODES.badData,
};

/** Which exit code a data problem gets (the loaders say what kind of problem each issue is). */
export const dataErrorCode = (kind: DataProblem | undefined): ExitCode =>
  PROBLEM_CODES[kind ?? 'bad'];

function fromResult(r: DataSetResult): {
  cases: Case[];
  classNames: string[];
  warnings: DataIssue[];
  namedByNumber: boolean;
} {
  if (!r.ok) {
    const first = r.issues[0]?.message ?? r.message;
    const kind = r.issues[0]?.kind;
    const more =
      r.issues.length > 1
        ? `\n${r.issues
            .slice(1, 6)
            .map((i) => `  ${i.message}`)
            .join('\n')}${r.issues.length > 6 ? `\n  … and ${r.issues.length - 6} more` : ''}`
        : '';
    throw new SessionError(`${first}${more}`, dataErrorCode(kind));
  }
  const namedByNumber = r.warnings.some((w) => w.warning === 'classesByNumber');
  return {
    cases: r.value.cases,
    classNames: r.value.classNames,
    warnings: r.warnings,
    namedByNumber,
  };
}

async function isDir(p: string): Promise<boolean> {
  try {
    return (await stat(p)).isDirectory();
  } catch {
    return false;
  }
}

async function readSplitFile(dir: string): Promise<Record<string, string[]> | null> {
  try {
    const j = JSON.parse(await readFile(path.join(dir, 'split.json'), 'utf8')) as Record<
      string,
      unknown
    >;
    const out: Record<string, string[]> = {};
    for (const k of ['train', 'val', 'test'])
      if (Array.isArray(j[k])) out[k] = (j[k] as unknown[]).map(String);
    return out;
  } catch {
    return null;
  }
}

/**
 * Load `--data`. `seed` makes the validation split reproducible when the
 * folder has no split.json ({"train": [ids], "val": [ids], "test": [ids]}).
 */
export async function loadDataArg(arg: string, seed: number): Promise<LoadedData> {
  if (arg === 'demo') {
    const r = await loadDemo(nodeFileSource(demoDataDir()));
    if (!r.ok) throw new SessionError(r.message, EXIT_CODES.badData);
    const d = r.value;
    return {
      kind: 'demo',
      source: 'demo (data/demo)',
      classNames: d.classNames,
      splits: { train: [d.splits.train], val: [d.splits.val], test: [d.splits.test] },
      splitRule: d.meta.split_rule as string,
      note: d.note,
      warnings: [],
    };
  }
  const dir = path.resolve(arg);
  if (!(await isDir(dir)))
    throw new SessionError(
      `--data ${arg}: no such folder (give a data folder or 'demo')`,
      EXIT_CODES.unreadable,
    );
  const src = nodeFileSource(dir);
  const names = await src.list('');
  if (names.length === 0)
    throw new SessionError(`empty folder: ${arg} holds nothing`, EXIT_CODES.emptyData);
  const warnings: string[] = [];
  let train: ReturnType<typeof fromResult>;
  let test: Case[] = [];
  let source: string;
  if (names.includes('train_npz') || names.includes('test_vol_h5')) {
    train = fromResult(await loadSynapse(src, '', { split: 'train' }));
    if (names.includes('test_vol_h5'))
      test = fromResult(await loadSynapse(src, '', { split: 'test' })).cases;
    source = `Synapse layout ${arg}`;
  } else if ((await src.list('images')).some((n) => /\.png$/i.test(n))) {
    train = fromResult(await loadPngFolder(src, ''));
    source = `PNG folder ${arg}`;
  } else {
    train = fromResult(
      await loadNiftiFolder(src, '', {
        imageDirs: ['imagesTr', 'images'],
        labelDirs: ['labelsTr', 'labels'],
      }),
    );
    if ((await src.list('imagesTs')).length && (await src.list('labelsTs')).length) {
      test = fromResult(
        await loadNiftiFolder(src, '', { imageDirs: ['imagesTs'], labelDirs: ['labelsTs'] }),
      ).cases;
    }
    source = `NIfTI folder ${arg}`;
  }
  warnings.push(...train.warnings.map((w) => w.message));
  const labelled = train.cases.filter((c) => c.label);
  if (labelled.length === 0)
    throw new SessionError(`empty folder: ${arg} has no labelled cases`, EXIT_CODES.emptyData);
  const file = await readSplitFile(dir);
  let splits: DataSplit;
  let splitRule: string;
  if (file) {
    const byId = new Map(labelled.map((c) => [c.id, c]));
    const pick = (ids: string[] | undefined) =>
      (ids ?? []).map((id) => byId.get(id)).filter((c): c is Case => !!c);
    const listed = new Set([...(file.val ?? []), ...(file.test ?? [])]);
    splits = {
      train: file.train ? pick(file.train) : labelled.filter((c) => !listed.has(c.id)),
      val: pick(file.val),
      test: test.length ? test : pick(file.test),
    };
    splitRule = 'split.json';
  } else {
    const s = splitCases(labelled, seed);
    splits = { train: s.train, val: s.val, test };
    splitRule =
      labelled.length < 2
        ? 'one case: validates on its training case'
        : `seeded hash of case ids (seed ${seed}), 20% validation`;
    if (labelled.length < 2)
      warnings.push(
        'only one labelled case: validation uses the training case, so its scores are optimistic',
      );
  }
  return {
    kind: 'folder',
    source,
    classNames: train.namedByNumber ? [] : train.classNames,
    splits,
    splitRule,
    warnings,
  };
}

/** The data must fit the graph: same number of classes (names compared too), labels inside the table. */
export function checkClasses(
  data: LoadedData,
  graphClasses: readonly string[],
  warn: (s: string) => void,
): void {
  const k = graphClasses.length;
  for (const c of [...data.splits.train, ...data.splits.val, ...data.splits.test]) {
    if (!c.label) continue;
    const { max, at } = largestLabel(c.label.data);
    if (max >= k) {
      const file = c.files[c.files.length - 1] ?? c.id;
      throw new SessionError(
        `${file} holds label ${max} (voxel ${at}), outside the graph's class table 0–${k - 1} (${graphClasses.join(', ')})`,
        EXIT_CODES.labelRange,
      );
    }
  }
  if (data.classNames.length === 0) {
    warn(
      `the data has no classes.json: using the graph's class names (${graphClasses.join(', ')})`,
    );
    return;
  }
  if (data.classNames.length !== k) {
    throw new SessionError(
      `the data has ${data.classNames.length} classes (${data.classNames.join(', ')}) but the graph outputs ${k} (${graphClasses.join(', ')})`,
      EXIT_CODES.labelRange,
    );
  }
  const differ = data.classNames.filter((n, i) => n !== graphClasses[i]);
  if (differ.length)
    warn(
      `class names differ between the data (${data.classNames.join(', ')}) and the graph (${graphClasses.join(', ')}); results use the graph's`,
    );
}
