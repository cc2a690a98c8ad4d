/**
 * The paper's ablation variants (MAM-SPEC.md section 3, Table 5), derived
 * from any base graph with the existing conversions: the whole network back
 * to SAM first, then MAM with the variant's strategy in its scope. Pure: no
 * tensors, no files; the catalogue is a parameter.
 */
import { applyCommand } from '../graph/commands.ts';
import { convertToMam, convertToSam, type ConvertScope } from '../graph/convert.ts';
import { analyzeGraph } from '../graph/infer.ts';
import type { Catalogue, MemoryLayout } from '../graph/node-kind.ts';
import type { GraphDoc } from '../graph/types.ts';

export const VARIANTS = ['sam', 'ists-enc', 'ists-encdec', 'sts-enc', 'sts-encdec'] as const;
export type VariantName = (typeof VARIANTS)[number];
export const MERGE_MODES = ['conv', 'avg', 'max'] as const;
export type MergeMode = (typeof MERGE_MODES)[number];
export const LAYOUTS = ['window', 'spatial'] as const;

interface VariantInfo {
  /** The paper's name for it (Table 5). */
  label: string;
  strategy: 'ISTS' | 'STS' | null;
  scope: ConvertScope | null;
  encoder: boolean;
  decoder: boolean;
}

export const VARIANT_INFO: Record<VariantName, VariantInfo> = {
  sam: { label: 'Baseline (SAM)', strategy: null, scope: null, encoder: false, decoder: false },
  'sts-enc': {
    label: 'Model 5-1 (STS)',
    strategy: 'STS',
    scope: 'encoder',
    encoder: true,
    decoder: false,
  },
  'sts-encdec': {
    label: 'Model 5-2 (STS)',
    strategy: 'STS',
    scope: 'network',
    encoder: true,
    decoder: true,
  },
  'ists-enc': {
    label: 'Model 5-3 (ISTS)',
    strategy: 'ISTS',
    scope: 'encoder',
    encoder: true,
    decoder: false,
  },
  'ists-encdec': {
    label: 'Model 5-4 (ISTS)',
    strategy: 'ISTS',
    scope: 'network',
    encoder: true,
    decoder: true,
  },
};

/** One row of the ablation: a variant in one memory layout and one merging mode. */
export interface VariantSpec {
  variant: VariantName;
  layout: MemoryLayout;
  merge: MergeMode;
}

export interface DerivedVariant extends VariantSpec {
  /** A folder-safe key: `sts-enc.window.conv`; `sam` alone (layout and merging do not apply). */
  key: string;
  label: string;
  encoder: boolean;
  decoder: boolean;
  graph: GraphDoc;
  params: number;
  /** Linear/Conv MACs: what the paper's thop "FLOPs(G)" counts (MAM-SPEC.md section 3). */
  macsLinearConv: number;
  macsAttention: number;
  /** Whether the derived graph has Memory Merging nodes (so the merging mode matters). */
  merges: boolean;
}

const run = (doc: GraphDoc, r: ReturnType<typeof convertToSam>): GraphDoc | string =>
  'error' in r ? r.error : r.commands.reduce(applyCommand, doc);

/** One variant of the base graph, or why it does not apply to it (in words). */
export function deriveVariant(
  base: GraphDoc,
  spec: VariantSpec,
  catalogue: Catalogue,
): DerivedVariant | { error: string } {
  const info = VARIANT_INFO[spec.variant];
  const sam = run(base, convertToSam(base, 'network', catalogue));
  if (typeof sam === 'string') return { error: `${spec.variant}: ${sam}` };
  let graph = sam;
  if (info.strategy && info.scope) {
    const r = convertToMam(
      sam,
      { scope: info.scope, strategy: info.strategy, layout: spec.layout, mergeMode: spec.merge },
      catalogue,
    );
    const mam = run(sam, r);
    if (typeof mam === 'string') return { error: `${spec.variant}: ${mam}` };
    graph = mam;
  }
  const title = base.metadata?.title ?? 'graph';
  graph = { ...graph, metadata: { ...graph.metadata, title: `${title}: ${info.label}` } };
  const a = analyzeGraph(graph, catalogue);
  const errors = a.issues.filter((i) => i.severity === 'error');
  if (errors.length)
    return { error: `${spec.variant}: the derived graph has errors (${errors[0].message})` };
  const merges = graph.nodes.some((n) => n.type === 'memory-merging');
  const mam = info.strategy !== null;
  return {
    ...spec,
    key: mam ? `${spec.variant}.${spec.layout}${merges ? `.${spec.merge}` : ''}` : spec.variant,
    label: info.label,
    encoder: info.encoder,
    decoder: info.decoder,
    graph,
    params: a.params,
    macsLinearConv: a.macs.linearConv,
    macsAttention: a.macs.attention,
    merges,
  };
}

/**
 * Every row of an ablation: each variant × layout × merging mode where they
 * matter (SAM has no layout; only graphs with Memory Merging have a mode),
 * without repeats. Variants the user named that do not apply are errors;
 * when `explicit` is false they are left out and reported in `skipped`.
 */
export function deriveAblation(
  base: GraphDoc,
  opts: {
    variants: readonly VariantName[];
    layouts: readonly MemoryLayout[];
    merges: readonly MergeMode[];
    explicit: boolean;
  },
  catalogue: Catalogue,
): { rows: DerivedVariant[]; skipped: string[] } | { error: string } {
  const rows: DerivedVariant[] = [];
  const skipped: string[] = [];
  const seen = new Set<string>();
  // A variant whose graph equals an earlier row's (e.g. STS enc+dec of a ViT whose decoder has no attention) is that row.
  const byContent = new Map<string, string>();
  for (const variant of opts.variants) {
    for (const layout of opts.layouts) {
      for (const merge of opts.merges) {
        const d = deriveVariant(base, { variant, layout, merge }, catalogue);
        if ('error' in d) {
          if (opts.explicit) return d;
          if (!skipped.includes(variant)) skipped.push(d.error);
          continue;
        }
        if (seen.has(d.key)) continue;
        seen.add(d.key);
        const content = JSON.stringify([d.graph.nodes, d.graph.links]);
        const same = byContent.get(content);
        if (same !== undefined) {
          if (!skipped.includes(variant)) skipped.push(`${variant} (the same graph as ${same})`);
          continue;
        }
        byContent.set(content, d.key);
        rows.push(d);
      }
    }
  }
  return { rows, skipped };
}
