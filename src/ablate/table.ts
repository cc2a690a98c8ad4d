/**
 * The ablation's table in the paper's Table 5 layout: label, encoder ✓/–,
 * decoder ✓/–, params (M), FLOPs (G: Linear/Conv MACs, what thop counts,
 * MAM-SPEC.md section 3), DSC and HD95 as mean ± std over seeds, with the
 * metric convention named; plus a per-class table. As Markdown, CSV (one row
 * per variant × layout × merging mode) and JSON. Pure: no files, no tensors.
 */
import type { MetricConvention } from '../train/metrics.ts';
import type { DerivedVariant } from './variants.ts';

/** One seed's test-split result of one row (the means over classes, and per class). */
export interface SeedResult {
  seed: number;
  /** Steps trained and how the run ended. */
  step: number;
  reason: string;
  meanDice: number;
  meanHd95: number;
  perClass: Record<string, { dice: number; hd95: number }>;
}

export interface AblationRowInput {
  key: string;
  variant: string;
  layout: string | null;
  merge: string | null;
  label: string;
  encoder: boolean;
  decoder: boolean;
  params: number;
  macsLinearConv: number;
  /** The run folders' results so far, one per finished seed. */
  seeds: SeedResult[];
}

/** A derived variant's row with the seeds finished so far (layout and merging only where they apply). */
export const rowInputOf = (r: DerivedVariant, seeds: SeedResult[]): AblationRowInput => ({
  key: r.key,
  variant: r.variant,
  layout: r.variant === 'sam' ? null : r.layout,
  merge: r.merges ? r.merge : null,
  label: r.label,
  encoder: r.encoder,
  decoder: r.decoder,
  params: r.params,
  macsLinearConv: r.macsLinearConv,
  seeds,
});

/** Mean and sample standard deviation (n − 1; 0 for one value); NaN for none. */
export interface MeanStd {
  mean: number;
  std: number;
  n: number;
}

export function meanStd(values: readonly number[]): MeanStd {
  const n = values.length;
  if (n === 0) return { mean: NaN, std: NaN, n };
  const mean = values.reduce((a, v) => a + v, 0) / n;
  if (n === 1) return { mean, std: 0, n };
  const ss = values.reduce((a, v) => a + (v - mean) ** 2, 0);
  return { mean, std: Math.sqrt(ss / (n - 1)), n };
}

export interface AblationRow extends AblationRowInput {
  /** DSC in % (the paper's unit), HD95 in voxels (synapse) or mm (monai). */
  dsc: MeanStd;
  hd95: MeanStd;
  perClass: Record<string, { dsc: MeanStd; hd95: MeanStd }>;
}

export interface AblationTable {
  format: 'mam-studio/ablation';
  version: 1;
  convention: MetricConvention;
  hd95Unit: 'voxels' | 'mm';
  seeds: number[];
  classNames: string[];
  /** "single-subject demo, not a benchmark" for the demo data. */
  note?: string;
  settings: Record<string, unknown>;
  rows: AblationRow[];
}

export function buildTable(
  inputs: readonly AblationRowInput[],
  meta: Omit<AblationTable, 'format' | 'version' | 'rows' | 'hd95Unit'>,
): AblationTable {
  const rows = inputs.map((r) => {
    const perClass: AblationRow['perClass'] = {};
    for (const name of meta.classNames.slice(1)) {
      const got = r.seeds.filter((s) => s.perClass[name]);
      perClass[name] = {
        dsc: meanStd(got.map((s) => 100 * s.perClass[name].dice)),
        hd95: meanStd(got.map((s) => s.perClass[name].hd95)),
      };
    }
    return {
      ...r,
      dsc: meanStd(r.seeds.map((s) => 100 * s.meanDice)),
      hd95: meanStd(r.seeds.map((s) => s.meanHd95)),
      perClass,
    };
  });
  return {
    format: 'mam-studio/ablation',
    version: 1,
    ...meta,
    hd95Unit: meta.convention === 'synapse' ? 'voxels' : 'mm',
    rows,
  };
}

const pm = (m: MeanStd, digits: number) =>
  m.n === 0 ? '–' : `${m.mean.toFixed(digits)} ± ${m.std.toFixed(digits)}`;
const mark = (b: boolean) => (b ? '✓' : '–');
const millions = (n: number) => (n / 1e6).toFixed(2);
const giga = (n: number) => (n / 1e9).toFixed(2);

/** How a row differs beyond its variant: the memory layout and merging mode, where they apply. */
function rowLabel(r: AblationRowInput): string {
  const extra = [
    r.layout === 'spatial' ? 'spatial layout (a deviation)' : null,
    r.merge ? `${r.merge} merging` : null,
  ].filter(Boolean);
  return extra.length ? `${r.label}, ${extra.join(', ')}` : r.label;
}

/** Words for the metric convention and the spread, for every table's caption. */
export function conventionNote(t: AblationTable): string {
  const hd =
    t.convention === 'synapse'
      ? 'HD95 in voxels (unit spacing, as medpy)'
      : 'HD95 in mm from the voxel spacing';
  return `metrics on the test split, ${t.convention} convention: DSC in % (mean over the foreground classes), ${hd}; mean ± sample std (n − 1) over seeds ${t.seeds.join(', ')}${t.note ? `; ${t.note}` : ''}`;
}

export function tableMarkdown(t: AblationTable): string {
  const lines = [
    '# Ablation',
    '',
    conventionNote(t) + '.',
    "Params (M): every weight and bias of Linear/Conv, LayerNorm and bias tables. FLOPs (G): Linear/Conv multiply-accumulates, what the paper's thop column counts (MAM-SPEC.md section 3; attention products not included).",
    '',
    '| Label | Encoder | Decoder | Params (M) | FLOPs (G) | DSC % | HD95 | seeds |',
    '| --- | :-: | :-: | --: | --: | --: | --: | --: |',
  ];
  for (const r of t.rows)
    lines.push(
      `| ${rowLabel(r)} | ${mark(r.encoder)} | ${mark(r.decoder)} | ${millions(r.params)} | ${giga(r.macsLinearConv)} | ${pm(r.dsc, 2)} | ${pm(r.hd95, 2)} | ${r.dsc.n} |`,
    );
  const classes = t.classNames.slice(1);
  for (const [what, pick] of [
    ['DSC % per class', (c: AblationRow['perClass'][string]) => pm(c.dsc, 2)],
    [`HD95 per class (${t.hd95Unit})`, (c: AblationRow['perClass'][string]) => pm(c.hd95, 2)],
  ] as const) {
    lines.push(
      '',
      `## ${what}`,
      '',
      `| Label | ${classes.join(' | ')} |`,
      `| --- |${classes.map(() => ' --: |').join('')}`,
    );
    for (const r of t.rows)
      lines.push(`| ${rowLabel(r)} | ${classes.map((c) => pick(r.perClass[c])).join(' | ')} |`);
  }
  return lines.join('\n') + '\n';
}

const csvCell = (v: string | number | boolean | null) => {
  const s = v === null ? '' : String(v);
  return /[",\n]/.test(s) ? `"${s.replace(/"/g, '""')}"` : s;
};

export function tableCsv(t: AblationTable): string {
  const classes = t.classNames.slice(1);
  const head = [
    'key',
    'label',
    'variant',
    'layout',
    'merge',
    'encoder',
    'decoder',
    'params',
    'flops_g',
    'convention',
    'seeds',
    'dsc_mean',
    'dsc_std',
    'hd95_mean',
    'hd95_std',
    ...classes.flatMap((c) => [`dsc_${c}_mean`, `dsc_${c}_std`, `hd95_${c}_mean`, `hd95_${c}_std`]),
  ];
  const rows = t.rows.map((r) => [
    r.key,
    r.label,
    r.variant,
    r.layout,
    r.merge,
    r.encoder,
    r.decoder,
    r.params,
    Number(giga(r.macsLinearConv)),
    t.convention,
    r.dsc.n,
    r.dsc.mean,
    r.dsc.std,
    r.hd95.mean,
    r.hd95.std,
    ...classes.flatMap((c) => {
      const p = r.perClass[c];
      return [p.dsc.mean, p.dsc.std, p.hd95.mean, p.hd95.std];
    }),
  ]);
  return [head, ...rows].map((row) => row.map(csvCell).join(',')).join('\n') + '\n';
}
