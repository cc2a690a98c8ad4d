/**
 * An opened data folder as the session takes it and as the data panel shows
 * it: the cases with their grids, spacing, channels and label values, the
 * split (seeded, or split.json, or the user's edits), and what does not fit
 * the graph (class table, labels, channels), with the resizing training will
 * do (from → to and the rule, as `mam train` says it).
 */
import { describeResize, resizeRecords } from '../data/prepare.ts';
import type { Case } from '../data/types.ts';
import { caseSlices, dataFingerprint } from '../train/samples.ts';
import type { RunData } from './folder-train.ts';
import { channelIssues, classIssues, splitCasesOnce } from './open-data.ts';
import type { SessionData, SplitName } from './session.ts';
import type { CaseSummary, DataInfo, DataSummary } from './types.ts';

const SPLITS: SplitName[] = ['train', 'val', 'test'];

/** The graph as the data is checked against it: its class names and input shape [1, H, W, C]. */
export interface GraphInput {
  classNames: readonly string[];
  inputShape: readonly number[];
}

/** The label values present in a label map, ascending. */
export function labelValues(data: Uint8Array): number[] {
  const seen = new Uint8Array(256);
  for (let i = 0; i < data.length; i++) seen[data[i]] = 1;
  const out: number[] = [];
  for (let v = 0; v < 256; v++) if (seen[v]) out.push(v);
  return out;
}

function splitOf(c: Case, data: RunData): CaseSummary['split'] {
  for (const s of SPLITS) if (data.splits[s].includes(c)) return s;
  return 'unused';
}

/** One case as the data panel lists it. */
export function caseSummary(c: Case, split: CaseSummary['split']): CaseSummary {
  return {
    id: c.id,
    split,
    dims: c.channels[0].dims.slice(0, 3),
    spacing: c.channels[0].spacing.slice(0, 3),
    channels: c.channels.length,
    labelValues: c.label ? labelValues(c.label.data) : [],
    files: c.files,
  };
}

/** What the panel lists, checked against `graph` when one is compiled. */
export function summariseData(
  data: RunData,
  name: string,
  seed: number,
  graph: GraphInput | undefined,
): DataSummary {
  const cases = splitCasesOnce(data.splits);
  const summary: DataSummary = {
    name,
    source: data.source,
    splitRule: data.splitRule,
    seed,
    classNames: data.classNames,
    cases: cases.map((c) => caseSummary(c, splitOf(c, data))),
    errors: [],
    warnings: data.warnings.slice(),
  };
  if (!graph) return summary;
  const { errors, warnings } = classIssues(data, graph.classNames);
  // B×H×W×C, or B×D×H×W×C for a graph that takes volumes
  const [h, w, channels] = graph.inputShape.slice(-3);
  const problems = [...errors, ...channelIssues(cases, channels)];
  summary.errors = problems.map((p) => ({ file: p.file, message: p.message }));
  summary.warnings.push(...warnings);
  // a graph that takes volumes trains on crops of them, resizing nothing
  if (graph.inputShape.length === 5) return summary;
  const planes = cases.map((c) => ({
    height: c.channels[0].dims[1] ?? 1,
    width: c.channels[0].dims[0],
    count: c.channels[0].dims[2] ?? 1,
  }));
  for (const r of resizeRecords(planes, [h, w], 'stretch'))
    summary.warnings.push(`resizing ${describeResize(r)}`);
  return summary;
}

/** Slices per split and the classes each split's labels hold, by name. */
function splitInfo(cases: Case[], classNames: readonly string[]): DataInfo['splits']['train'] {
  const present = new Set<number>();
  let slices = 0;
  for (const c of cases) {
    slices += c.channels[0].dims[2] ?? 1;
    if (c.label) for (const v of labelValues(c.label.data)) present.add(v);
  }
  return {
    slices,
    classesPresent: [...present].sort((a, b) => a - b).map((v) => classNames[v] ?? `label ${v}`),
  };
}

/** The folder as the session trains on it (the graph's class names when the folder has none). */
export function folderSessionData(
  data: RunData,
  summary: DataSummary,
  graphClasses: readonly string[],
): SessionData {
  const classNames = data.classNames.length ? data.classNames : [...graphClasses];
  const splits = {} as DataInfo['splits'];
  for (const s of SPLITS) splits[s] = splitInfo(data.splits[s], classNames);
  const train = data.splits.train.flatMap((c) => caseSlices(c, 'auto'));
  return {
    info: {
      source: data.source,
      classNames,
      trainSlices: train.length,
      splits,
      folder: summary,
    },
    train,
    cases: data.splits,
    fingerprint: dataFingerprint(splitCasesOnce(data.splits)),
    splitRule: data.splitRule,
    // the data panel's seed drew the split (a split.json or an edit leaves it on record only)
    splitSeed: summary.seed,
    // a PNG or Synapse folder holds 2D slices: a 3D graph is refused on it, as `mam train` does
    layout: data.layout,
  };
}

/** The split with case `id` moved to `to` ('unused' leaves it out), keeping the others' order. */
export function moveCase(
  data: RunData,
  all: readonly Case[],
  id: string,
  to: SplitName | 'unused',
): RunData {
  const splits = { train: [], val: [], test: [] } as RunData['splits'];
  for (const c of all) {
    const s = c.id === id ? to : splitOf(c, data);
    if (s !== 'unused') splits[s].push(c);
  }
  return { ...data, splits, splitRule: `${data.splitRule}, edited` };
}
