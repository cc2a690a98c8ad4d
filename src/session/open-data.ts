/**
 * A data folder, in any layout `mam train --data` reads, opened from a
 * FileSource: the CLI passes a folder on disk, the editor's worker the files
 * the user picked or dropped. Layout detection, the class table, the split
 * (split.json, else seeded) and the checks against the graph live here once,
 * so the two read the same folder the same way and say the same things.
 */
import { largestLabel, loadNiftiFolder, loadPngFolder, loadSynapse } from '../data/dataset.ts';
import type { FileSource } from '../data/files.ts';
import type { Case, DataIssue, DataProblem, DataSetResult } from '../data/types.ts';
import { splitCases, type DataSplit } from '../train/samples.ts';
import { EXIT_CODES, SessionError, type ExitCode } from './errors.ts';
import type { RunData } from './folder-train.ts';
import type { DataLayout } from './data-layout.ts';

const PROBLEM_CODES: Record<DataProblem, ExitCode> = {
  empty: EXIT_CODES.emptyData,
  sizeMismatch: EXIT_CODES.sizeMismatch,
  labelRange: EXIT_CODES.labelRange,
  bad: EXIT_CODES.badData,
};

/** Which exit code a data problem gets (the loaders say what kind of problem each issue is). */
export const dataErrorCode = (kind: DataProblem | undefined): ExitCode =>
  PROBLEM_CODES[kind ?? 'bad'];

/** A data folder that cannot be used: every problem found, each naming its file. */
export class DataFolderError extends SessionError {
  constructor(
    message: string,
    code: ExitCode,
    readonly issues: DataIssue[],
  ) {
    super(message, code);
  }
}

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
    const issues = r.issues.length ? r.issues : [{ file: '', message: r.message }];
    throw new DataFolderError(`${first}${more}`, dataErrorCode(kind), issues);
  }
  const namedByNumber = r.warnings.some((w) => w.warning === 'classesByNumber');
  return {
    cases: r.value.cases,
    classNames: r.value.classNames,
    warnings: r.warnings,
    namedByNumber,
  };
}

async function readSplitFile(src: FileSource): Promise<Record<string, string[]> | null> {
  const bytes = await src.read('split.json');
  if (!bytes) return null;
  try {
    const j = JSON.parse(new TextDecoder().decode(bytes)) as Record<string, unknown>;
    const out: Record<string, string[]> = {};
    for (const k of ['train', 'val', 'test'])
      if (Array.isArray(j[k])) out[k] = (j[k] as unknown[]).map(String);
    return out;
  } catch {
    return null;
  }
}

/**
 * Opens the folder `src` (named `name` in messages). `seed` makes the
 * validation split reproducible when the folder has no split.json
 * ({"train": [ids], "val": [ids], "test": [ids]}).
 */
export async function openDataFolder(
  src: FileSource,
  name: string,
  seed: number,
): Promise<RunData> {
  const names = await src.list('');
  if (names.length === 0)
    throw new SessionError(`empty folder: ${name} holds nothing`, EXIT_CODES.emptyData);
  const warnings: string[] = [];
  let train: ReturnType<typeof fromResult>;
  let test: Case[] = [];
  let source: string;
  // NIfTI volumes suit either: sliced for a 2D graph, whole for a 3D one
  let layout: DataLayout = 'either';
  if (names.includes('train_npz') || names.includes('test_vol_h5')) {
    train = fromResult(await loadSynapse(src, '', { split: 'train' }));
    if (names.includes('test_vol_h5'))
      test = fromResult(await loadSynapse(src, '', { split: 'test' })).cases;
    source = `Synapse layout ${name}`;
    layout = 'slices';
  } else if ((await src.list('images')).some((n) => /\.png$/i.test(n))) {
    train = fromResult(await loadPngFolder(src, ''));
    source = `PNG folder ${name}`;
    layout = 'slices';
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
    source = `NIfTI folder ${name}`;
  }
  warnings.push(...train.warnings.map((w) => w.message));
  const labelled = train.cases.filter((c) => c.label);
  if (labelled.length === 0)
    throw new SessionError(`empty folder: ${name} has no labelled cases`, EXIT_CODES.emptyData);
  const file = await readSplitFile(src);
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
    layout,
    warnings,
  };
}

/** The cases of a split data set, each once (a case that validates on itself is in two splits). */
export function splitCasesOnce(s: DataSplit): Case[] {
  return [...new Set([...s.train, ...s.val, ...s.test])];
}

/** What does not fit the graph's class table: errors stop a run, warnings are said. */
export function classIssues(
  data: RunData,
  graphClasses: readonly string[],
): { errors: (DataIssue & { code: ExitCode })[]; warnings: string[] } {
  const k = graphClasses.length;
  const errors: (DataIssue & { code: ExitCode })[] = [];
  const warnings: string[] = [];
  for (const c of splitCasesOnce(data.splits)) {
    if (!c.label) continue;
    const { max, at } = largestLabel(c.label.data);
    if (max >= k) {
      const file = c.files[c.files.length - 1] ?? c.id;
      errors.push({
        file,
        message: `${file} holds label ${max} (voxel ${at}), outside the graph's class table 0–${k - 1} (${graphClasses.join(', ')})`,
        kind: 'labelRange',
        code: EXIT_CODES.labelRange,
      });
    }
  }
  if (data.classNames.length === 0) {
    warnings.push(
      `the data has no classes.json: using the graph's class names (${graphClasses.join(', ')})`,
    );
  } else if (data.classNames.length !== k) {
    errors.push({
      file: 'classes.json',
      message: `the data has ${data.classNames.length} classes (${data.classNames.join(', ')}) but the graph outputs ${k} (${graphClasses.join(', ')})`,
      kind: 'labelRange',
      code: EXIT_CODES.labelRange,
    });
  } else if (data.classNames.some((n, i) => n !== graphClasses[i])) {
    warnings.push(
      `class names differ between the data (${data.classNames.join(', ')}) and the graph (${graphClasses.join(', ')}); results use the graph's`,
    );
  }
  return { errors, warnings };
}

/** The data must fit the graph: same number of classes (names compared too), labels inside the table. */
export function checkClasses(
  data: RunData,
  graphClasses: readonly string[],
  warn: (s: string) => void,
): void {
  const { errors, warnings } = classIssues(data, graphClasses);
  if (errors.length) throw new DataFolderError(errors[0].message, errors[0].code, errors);
  for (const w of warnings) warn(w);
}

/** Cases whose channels do not fit the graph's input (equal, or one channel repeated), each naming its file. */
export function channelIssues(cases: readonly Case[], want: number): DataIssue[] {
  return cases
    .filter((c) => c.channels.length !== want && c.channels.length !== 1)
    .map((c) => ({
      file: c.files[0] ?? c.id,
      message: `${c.files[0] ?? c.id} has ${c.channels.length} channels but the graph's input takes ${want}`,
      kind: 'bad' as const,
    }));
}
