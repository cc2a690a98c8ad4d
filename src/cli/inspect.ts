/** `mam inspect <graph.json> [--json]`: shapes, counts, memory chains and problems of a graph file. */
import { readFile } from 'node:fs/promises';
import { analyzeGraph, type Analysis } from '../graph/infer.ts';
import { loadGraph } from '../graph/load.ts';
import { describeShape } from '../graph/node-kind.ts';
import type { GraphDoc, GraphIssue } from '../graph/types.ts';
import type { Parsed, VerbSpec } from './args.ts';
import { EXIT_CODES as EXIT } from './errors.ts';
import { compact, int, table } from './format.ts';
import type { CliIO } from './main.ts';
import { catalogue } from '../../nodes/index.ts';
import { kernels } from '../compile/kernels/index.ts';
import { planGraph, planIR, type PlanIR } from '../compile/plan.ts';
import { PASS_NAMES } from '../compile/passes.ts';
import { formatDims } from '../data/types.ts';
import { describeVolumeAugment } from '../data/volume-augment.ts';
import { describeWindow, resolveVolumeProtocol, type VolumeProtocol } from '../session/settings.ts';

export const INSPECT_SPEC = {
  verb: 'inspect',
  positionals: ['<graph.json>'],
  flags: {
    json: { kind: 'boolean', help: 'the report as JSON' },
    plan: {
      kind: 'boolean',
      help: 'the compile plan as JSON: steps in order, resolved windows, memory hand-offs, weights (with --json: and the pass names)',
    },
    passes: {
      kind: 'boolean',
      help: 'the compile passes in order, with what each one found',
    },
  },
  summary: 'shapes, params, MACs, memory chains and errors of a graph file',
} as const satisfies VerbSpec;

export interface InspectReport {
  file: string;
  title?: string;
  inputs: { node: string; shape: number[] }[];
  outputs: { node: string; shape: number[] }[];
  params: number;
  macs: { linearConv: number; attention: number };
  memoryChains: {
    strategy: string;
    scope: string;
    layout: string;
    units: string[];
    resamplers: string[];
  }[];
  nodes: {
    id: string;
    type: string;
    scope: string;
    outputs: Record<string, string>;
    params: number;
    macs: { linearConv: number; attention: number };
  }[];
  errors: { node?: string; link?: number; path: string; message: string }[];
  warnings: { node?: string; link?: number; path: string; message: string }[];
  /** A 3D graph's training protocol (crops, augmentation, sliding windows), each value with its reason. */
  volumeProtocol?: VolumeProtocol;
}

const issueJson = (i: GraphIssue) => ({
  ...(i.node !== undefined ? { node: i.node } : {}),
  ...(i.link !== undefined ? { link: i.link } : {}),
  path: i.path,
  message: i.message,
});

export function inspectReport(
  file: string,
  doc: GraphDoc,
  loadIssues: GraphIssue[],
  a: Analysis,
): InspectReport {
  // Load issues and analysis issues overlap (validation runs in both); keep each message once.
  const seen = new Set<string>();
  const all = [...loadIssues, ...a.issues].filter((i) => {
    const key = `${i.path}|${i.message.replace(/; using the default.*$/, '')}`;
    if (seen.has(key)) return false;
    seen.add(key);
    return true;
  });
  const input = a.inputs[0]?.shape;
  const volume =
    input?.length === 5
      ? resolveVolumeProtocol(doc.metadata?.training, {}, [input[1], input[2], input[3]])
      : undefined;
  return {
    file,
    ...(doc.metadata?.title ? { title: doc.metadata.title } : {}),
    inputs: a.inputs,
    outputs: a.outputs,
    params: a.params,
    macs: a.macs,
    memoryChains: a.chains.map((c) => ({
      strategy: c.strategy,
      scope: c.scope,
      layout: c.layout,
      units: c.units,
      resamplers: c.resamplers,
    })),
    nodes: a.order.map((id) => {
      const n = a.nodes.get(id)!;
      const node = doc.nodes[n.index];
      return {
        id,
        type: node.type,
        scope: n.scope,
        outputs: Object.fromEntries(
          Object.entries(n.outputs).map(([p, s]) => [p, describeShape(s)]),
        ),
        params: n.params,
        macs: n.macs,
      };
    }),
    errors: all.filter((i) => i.severity === 'error').map(issueJson),
    warnings: all.filter((i) => i.severity === 'warning').map(issueJson),
    ...(volume ? { volumeProtocol: volume } : {}),
  };
}

/** The 3D protocol in lines: each value and where it comes from. */
function formatVolumeProtocol(p: VolumeProtocol): string[] {
  const why = (r: { from: string; note?: string }) => `(${r.from}${r.note ? `: ${r.note}` : ''})`;
  return [
    'training on volumes:',
    `  crops:        ${p.cropSize.value ? formatDims(p.cropSize.value) : '?'} ${why(p.cropSize)}`,
    `  per volume:   ${p.samplesPerVolume.value} crops per step ${why(p.samplesPerVolume)}`,
    `  augmentation: ${describeVolumeAugment(p.augment.value)} ${why(p.augment)}`,
    `  validation:   ${describeWindow(p.validation)}`,
    `  test:         ${describeWindow(p.test)}`,
  ];
}

export function formatReport(r: InspectReport): string {
  const rows = r.nodes.map((n) => [
    n.id,
    n.type,
    Object.values(n.outputs).join(' / ') || '-',
    n.params ? int(n.params) : '-',
    n.macs.linearConv + n.macs.attention ? compact(n.macs.linearConv + n.macs.attention) : '-',
  ]);
  const out = [
    `${r.title ?? r.file}`,
    '',
    table(['node', 'type', 'output', 'params', 'MACs'], rows, [false, false, false, true, true]),
    '',
    `inputs:  ${r.inputs.map((i) => `${i.node} [${i.shape.join(', ')}]`).join('; ') || 'none'}`,
    `outputs: ${r.outputs.map((i) => `${i.node} [${i.shape.join(', ')}]`).join('; ') || 'none'}`,
    `params:  ${int(r.params)} (${compact(r.params)})`,
    `MACs:    Linear/Conv ${int(r.macs.linearConv)} (${compact(r.macs.linearConv)}), attention ${int(r.macs.attention)} (${compact(r.macs.attention)})`,
    '',
    r.memoryChains.length
      ? `memory chains (${r.memoryChains.length}):\n` +
        r.memoryChains
          .map(
            (c, i) =>
              `  ${i + 1}. ${c.strategy} ${c.scope}, ${c.layout} layout, ${c.units.length} units: ${c.units[0]} … ${c.units[c.units.length - 1]}` +
              (c.resamplers.length ? ` via ${c.resamplers.join(', ')}` : ''),
          )
          .join('\n')
      : 'memory chains: none (self-attention only)',
  ];
  if (r.errors.length)
    out.push(
      '',
      `errors (${r.errors.length}):`,
      ...r.errors.map((e) => `  ${e.path}: ${e.message}`),
    );
  if (r.warnings.length)
    out.push(
      '',
      `warnings (${r.warnings.length}):`,
      ...r.warnings.map((e) => `  ${e.path}: ${e.message}`),
    );
  if (r.volumeProtocol) out.push('', ...formatVolumeProtocol(r.volumeProtocol));
  if (!r.errors.length) out.push('', 'no errors');
  return out.join('\n');
}

/** `--passes`: each pass of the plan by name, with what it found. */
export function formatPasses(file: string, ir: PlanIR): string {
  const layouts = [...new Set(ir.handOffs.map((h) => h.layout))].join(', ');
  const found: Record<(typeof PASS_NAMES)[number], string> = {
    analyse: `no errors, input ${ir.input.node}, output ${ir.output.node}`,
    order: `${ir.steps.length} steps`,
    resolveWindows: `${ir.steps.filter((s) => s.window).length} windows resolved`,
    memoryHandOffs: `${ir.handOffs.length} memory hand-offs${layouts ? ` (${layouts} layout)` : ''}`,
    weights: `${int(ir.params)} parameters in ${ir.steps.reduce((a, s) => a + s.weights.length, 0)} weights`,
  };
  const rows = PASS_NAMES.map((name, i) => [`${i + 1}. ${name}`, found[name]]);
  return `${file}: ${PASS_NAMES.length} passes\n\n${table(['pass', 'found'], rows, [false, false])}`;
}

export async function inspectCommand(
  p: Parsed<typeof INSPECT_SPEC>,
  { print }: CliIO,
): Promise<number> {
  const json = p.flags.json === true;
  const file = p.positionals[0];
  let text: string;
  try {
    text = await readFile(file, 'utf8');
  } catch (e) {
    const msg = `cannot read ${file}: ${(e as NodeJS.ErrnoException).code === 'ENOENT' ? 'no such file' : (e as Error).message}`;
    print(json ? JSON.stringify({ file, errors: [{ path: '$', message: msg }] }, null, 2) : msg);
    return EXIT.unreadable;
  }
  /** Issues that stop the command, as JSON or one line each under a heading. */
  const refuse = (issues: GraphIssue[], what: string) => {
    const errors = issues.map(issueJson);
    print(
      json
        ? JSON.stringify({ file, errors }, null, 2)
        : `${file} ${what}:\n${errors.map((e) => `  ${e.path}: ${e.message}`).join('\n')}`,
    );
  };
  const loaded = loadGraph(text, catalogue);
  if (!loaded.ok) {
    refuse(loaded.issues, 'cannot be opened');
    return EXIT.unreadable;
  }
  if (p.flags.plan === true || p.flags.passes === true) {
    const r = planGraph(loaded.graph, catalogue, kernels);
    if (!r.ok) {
      refuse(r.errors, 'cannot be compiled');
      return EXIT.graphErrors;
    }
    const ir = planIR(r.plan);
    if (json) print(JSON.stringify({ file, passes: PASS_NAMES, plan: ir }, null, 2));
    else if (p.flags.passes === true) print(formatPasses(file, ir));
    else print(JSON.stringify(ir, null, 2));
    return EXIT.ok;
  }
  const report = inspectReport(
    file,
    loaded.graph,
    loaded.issues,
    analyzeGraph(loaded.graph, catalogue),
  );
  print(json ? JSON.stringify(report, null, 2) : formatReport(report));
  return report.errors.length ? EXIT.graphErrors : EXIT.ok;
}
