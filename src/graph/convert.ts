/**
 * Whole-network conversions between self-attention (SAM) and memory-attention
 * (MAM), wiring the memory links as a transmission strategy (MAM-SPEC.md
 * section 3): ISTS, a chain per stage; STS, one chain through the scope with
 * Memory Merging / Expanding where the grid halves / doubles.
 *
 * A stage here is a run of attention blocks on one token grid in one scope
 * (encoder/decoder), joined by token flow that no patch merging or expanding
 * interrupts, in token-flow order.
 */
import { applyCommand, type Command } from './commands.ts';
import { analyzeGraph, type Analysis, type MemoryChain, type NodeInfo } from './infer.ts';
import { placeInFreeSpace, pointBetween } from './layout.ts';
import { formatGrid, type Catalogue, type MemoryLayout } from './node-kind.ts';
import { carryParams } from './swap.ts';
import type { GraphDoc, LinkDoc, NodeDoc } from './types.ts';

export type ConvertScope = { stageOf: string } | 'encoder' | 'decoder' | 'network';

export interface ConvertOptions {
  scope: ConvertScope;
  strategy: 'ISTS' | 'STS';
  layout: MemoryLayout;
  /** Mode of inserted Memory Merging nodes (STS); 'conv' by default. */
  mergeMode?: 'conv' | 'avg' | 'max';
}

export type ConvertResult = { commands: Command[]; note: string } | { error: string };

export interface Stage {
  scope: 'encoder' | 'decoder';
  grid: number[];
  channels: number;
  /** Attention blocks (SAM or MAM) in token-flow order. */
  units: string[];
  /** Index among the stages of the same scope, in token-flow order. */
  index: number;
}

const isBlock = (n?: NodeInfo) => n?.kind?.role === 'attention' || n?.kind?.role === 'memory-unit';

function socketOfLink(analysis: Analysis, link: LinkDoc): string | undefined {
  return analysis.nodes.get(link.from.node)?.kind?.outputs.find((p) => p.name === link.from.port)
    ?.socket;
}

const isMemoryLink = (analysis: Analysis, l: LinkDoc) =>
  l.to.port === 'memIn' || socketOfLink(analysis, l) === 'memory';

/** The stages of a graph, in token-flow order (blocks whose input shape is unknown are left out). */
export function findStages(doc: GraphDoc, catalogue: Catalogue): Stage[] {
  const analysis = analyzeGraph(doc, catalogue);
  const rank = new Map(analysis.order.map((id, i) => [id, i]));
  const tokenNext = new Map<string, string[]>();
  for (const l of doc.links) {
    if (isMemoryLink(analysis, l)) continue;
    const list = tokenNext.get(l.from.node);
    if (list) list.push(l.to.node);
    else tokenNext.set(l.from.node, [l.to.node]);
  }
  const gridOf = (n: NodeInfo) => {
    const t = n.inputs.in;
    return t?.kind === 'tokens' ? t : undefined;
  };
  const key = (n: NodeInfo) => {
    const t = gridOf(n);
    return t ? `${n.scope}:${formatGrid(t.grid)}×${t.channels}` : undefined;
  };
  const blocks = [...analysis.nodes.values()].filter((n) => isBlock(n) && key(n) !== undefined);
  const parent = new Map(blocks.map((b) => [b.id, b.id]));
  const find = (x: string): string => {
    const p = parent.get(x) as string;
    if (p === x) return x;
    const r = find(p);
    parent.set(x, r);
    return r;
  };
  for (const a of blocks) {
    // Walk token flow from a through plain nodes of its scope to the next blocks.
    const seen = new Set<string>();
    const stack = [...(tokenNext.get(a.id) ?? [])];
    while (stack.length) {
      const id = stack.pop() as string;
      if (seen.has(id)) continue;
      seen.add(id);
      const n = analysis.nodes.get(id);
      if (!n || n.scope !== a.scope) continue;
      if (isBlock(n)) {
        if (key(n) === key(a)) parent.set(find(a.id), find(n.id));
        continue;
      }
      const role = n.kind?.role;
      if (role === 'downsample' || role === 'upsample' || role === 'memory-resampling') continue;
      stack.push(...(tokenNext.get(id) ?? []));
    }
  }
  const groups = new Map<string, NodeInfo[]>();
  for (const b of blocks) {
    const r = find(b.id);
    const g = groups.get(r);
    if (g) g.push(b);
    else groups.set(r, [b]);
  }
  const byRank = (a: string, b: string) => (rank.get(a) ?? 1e9) - (rank.get(b) ?? 1e9);
  const stages = [...groups.values()]
    .map((g) => {
      const ids = g.map((n) => n.id).sort(byRank);
      const t = gridOf(g[0]) as { grid: number[]; channels: number };
      return { scope: g[0].scope, grid: [...t.grid], channels: t.channels, units: ids, index: 0 };
    })
    .sort((a, b) => byRank(a.units[0], b.units[0]));
  for (const scope of ['encoder', 'decoder'] as const) {
    stages.filter((s) => s.scope === scope).forEach((s, i) => (s.index = i));
  }
  return stages;
}

function stagesInScope(
  doc: GraphDoc,
  scope: ConvertScope,
  catalogue: Catalogue,
): Stage[] | { error: string } {
  const analysis = analyzeGraph(doc, catalogue);
  const stages = findStages(doc, catalogue);
  if (typeof scope === 'object') {
    const n = analysis.nodes.get(scope.stageOf);
    if (!n) return { error: `there is no node '${scope.stageOf}'` };
    if (!isBlock(n))
      return {
        error: `node '${scope.stageOf}' is not an attention block, so it belongs to no stage`,
      };
    const s = stages.find((st) => st.units.includes(scope.stageOf));
    if (!s)
      return {
        error: `the stage of '${scope.stageOf}' is unknown: its token input has no shape yet (connect it first)`,
      };
    return [s];
  }
  const picked = scope === 'network' ? stages : stages.filter((s) => s.scope === scope);
  if (!picked.length)
    return {
      error: `the ${scope === 'network' ? 'network' : scope} has no attention blocks with known shapes`,
    };
  return picked;
}

/** Memory links touching `units`, and resampling nodes reachable from them through memory links. */
function memoryWiringOf(doc: GraphDoc, units: Set<string>, analysis: Analysis) {
  const isResampler = (id: string) => analysis.nodes.get(id)?.kind?.role === 'memory-resampling';
  const memLinks = doc.links.filter((l) => isMemoryLink(analysis, l));
  const resamplers = new Set<string>();
  const stack = [...units];
  const visited = new Set(stack);
  while (stack.length) {
    const id = stack.pop() as string;
    for (const l of memLinks) {
      const other = l.from.node === id ? l.to.node : l.to.node === id ? l.from.node : undefined;
      if (other === undefined || visited.has(other) || !isResampler(other)) continue;
      visited.add(other);
      resamplers.add(other);
      stack.push(other);
    }
  }
  const links = memLinks.filter(
    (l) =>
      (units.has(l.from.node) || units.has(l.to.node)) &&
      !resamplers.has(l.from.node) &&
      !resamplers.has(l.to.node),
  );
  const dropped =
    links.length +
    memLinks.filter((l) => resamplers.has(l.from.node) || resamplers.has(l.to.node)).length;
  const inDocOrder = doc.nodes.map((n) => n.id).filter((id) => resamplers.has(id));
  return { links, resamplers: [...new Set(inDocOrder)], dropped };
}

const uniqueId = (base: string, taken: Set<string>) => {
  let id = base;
  for (let i = 2; taken.has(id); i++) id = `${base}_${i}`;
  taken.add(id);
  return id;
};

/** Resampling between two stages: k merges (grid /2^k, C×2^k) or k expansions, or why not. */
function crossing(
  a: Stage,
  b: Stage,
): { type: 'memory-merging' | 'memory-expanding' | 'none'; steps: number } | { error: string } {
  const what = () =>
    `memory cannot pass from the stage at ${formatGrid(a.grid)}×${a.channels} to the stage at ${formatGrid(b.grid)}×${b.channels}`;
  if (a.grid.length !== b.grid.length) return { error: what() };
  // The 3D reference resets memory at every stage (3D-MAM-SPEC.md §c.6); the memory
  // resampling ops work on 2D grids.
  if (a.grid.length !== 2)
    return {
      error: `${what()}: in a 3D network memory starts afresh at every stage (3D-MAM-SPEC.md §c.6), and Memory Merging / Expanding work on 2D grids`,
    };
  const ratio = a.grid[0] / b.grid[0];
  if (a.grid.some((g, i) => g / b.grid[i] !== ratio))
    return { error: `${what()}: the grid does not scale evenly` };
  if (ratio === 1)
    return a.channels === b.channels
      ? { type: 'none', steps: 0 }
      : { error: `${what()}: channel counts differ` };
  const steps = Math.log2(ratio > 1 ? ratio : 1 / ratio);
  if (!Number.isInteger(steps))
    return { error: `${what()}: the grid changes by ${ratio}, not a power of 2` };
  const want = ratio > 1 ? a.channels * 2 ** steps : a.channels / 2 ** steps;
  if (b.channels !== want) {
    return {
      error: `${what()}: Memory ${ratio > 1 ? 'Merging' : 'Expanding'} would give ${want} channels`,
    };
  }
  return { type: ratio > 1 ? 'memory-merging' : 'memory-expanding', steps };
}

const memLink = (from: string, to: string): LinkDoc => ({
  from: { node: from, port: 'memOut' },
  to: { node: to, port: 'memIn' },
});

/** Swap every SAM block in scope to MAM and wire memory links by `strategy`; replaces existing memory wiring in scope. */
export function convertToMam(
  doc: GraphDoc,
  opts: ConvertOptions,
  catalogue: Catalogue,
): ConvertResult {
  const analysis = analyzeGraph(doc, catalogue);
  const inScope = stagesInScope(doc, opts.scope, catalogue);
  if ('error' in inScope) return inScope;
  const byId = new Map(doc.nodes.map((n) => [n.id, n]));
  // ISTS over several stages leaves a one-block stage (nnFormer's decoder) as it is: a chain
  // needs two units, and a unit without memory computes what its SAM block does.
  const lone =
    opts.strategy === 'ISTS' && typeof opts.scope !== 'object'
      ? inScope.filter((s) => s.units.length === 1)
      : [];
  if (lone.length === inScope.length)
    return { error: 'every stage in scope has one block: a memory chain needs two units' };
  const stages = inScope.filter((s) => !lone.includes(s));
  const units = new Set(stages.flatMap((s) => s.units));
  const old = memoryWiringOf(doc, units, analysis);
  const commands: Command[] = [];
  if (old.resamplers.length) commands.push({ type: 'remove-nodes', ids: old.resamplers });
  for (const link of old.links) commands.push({ type: 'disconnect', link });

  let swapped = 0;
  for (const id of units) {
    const node = byId.get(id) as NodeDoc;
    const kind = catalogue.get(node.type);
    const mam = kind?.role === 'attention' ? catalogue.get(kind.swapWith ?? '') : kind;
    if (!mam) return { error: `a ${kind?.title} ('${id}') has no memory-attention counterpart` };
    // A unit with a fixed layout (the 3D unit keeps memory in window layout) takes no choice.
    const layout = mam.params.some((p) => p.name === 'memoryLayout')
      ? { memoryLayout: opts.layout }
      : undefined;
    if (!layout && opts.layout !== 'window')
      return {
        error: `a ${mam.title} ('${id}') keeps its memory in window layout only: convert with the window layout`,
      };
    if (kind?.role === 'attention') {
      commands.push({
        type: 'set-kind',
        id,
        nodeType: mam.type,
        params: { ...carryParams(node, mam), ...layout },
      });
      swapped++;
    } else if (layout && node.params.memoryLayout !== opts.layout) {
      commands.push({ type: 'set-params', id, params: layout });
    }
  }

  // Chains: ISTS links inside each stage; STS also across consecutive stages.
  const taken = new Set(doc.nodes.map((n) => n.id).filter((id) => !old.resamplers.includes(id)));
  const newNodes: NodeDoc[] = [];
  const newLinks: LinkDoc[] = [];
  const unitLinks: LinkDoc[] = [];
  const mergeMode = opts.mergeMode ?? 'conv';
  for (const s of stages)
    for (let j = 1; j < s.units.length; j++) unitLinks.push(memLink(s.units[j - 1], s.units[j]));
  if (opts.strategy === 'STS') {
    for (let i = 1; i < stages.length; i++) {
      const a = stages[i - 1];
      const b = stages[i];
      const c = crossing(a, b);
      if ('error' in c) return { error: `${c.error}; use ISTS or insert the resampling yourself` };
      const last = a.units[a.units.length - 1];
      if (c.type === 'none') {
        unitLinks.push(memLink(last, b.units[0]));
        continue;
      }
      const pa = (byId.get(last) as NodeDoc).position;
      const pb = (byId.get(b.units[0]) as NodeDoc).position;
      // Named as the presets name them: merging into encoder stage i is memory_merging.{i-1},
      // expanding into decoder stage k (layers_up.k, counted from 1) is memory_expanding.{k}.
      const base =
        c.type === 'memory-merging'
          ? `memory_merging.${Math.max(0, b.index - 1)}`
          : `memory_expanding.${b.index + 1}`;
      let prev = last;
      for (let k = 1; k <= c.steps; k++) {
        const id = uniqueId(base, taken);
        const t = k / (c.steps + 1);
        newNodes.push({
          id,
          type: c.type,
          params: c.type === 'memory-merging' ? { mode: mergeMode } : {},
          position: pointBetween(pa, pb, t),
        });
        newLinks.push(memLink(prev, id));
        prev = id;
      }
      newLinks.push(memLink(prev, b.units[0]));
    }
  }
  if (newNodes.length) {
    // Between the units they join, in free space: after the swaps, which change node sizes.
    const placed = placeInFreeSpace(commands.reduce(applyCommand, doc), newNodes, catalogue);
    commands.push({ type: 'add-nodes', nodes: placed, links: newLinks });
  }
  for (const link of unitLinks) commands.push({ type: 'connect', link });

  // Say what the result is, read from its analysis, never what was asked for.
  const after = commands.reduce(applyCommand, doc);
  const made = analyzeGraph(after, catalogue).chains.filter((c) =>
    c.units.some((u) => units.has(u)),
  );
  const other = made.find((c) => c.strategy !== opts.strategy);
  if (other) return { error: `${strategyMismatch(opts.strategy)}; nothing changed` };
  const chainText = describeChains(made);
  if (sameGraph(doc, after))
    return { commands: [], note: `Nothing changed: the blocks in scope already are ${chainText}.` };
  const parts = [
    `Converted ${swapped} block${swapped === 1 ? '' : 's'} to memory-attention (${opts.layout} layout${opts.layout === 'spatial' ? ', a deviation from the paper' : ''}); ${chainText}.`,
  ];
  if (lone.length)
    parts.push(
      `Left ${lone.length} one-block stage${lone.length === 1 ? '' : 's'} (${lone.map((l) => l.units[0]).join(', ')}) as self-attention: a chain needs two units.`,
    );
  if (old.dropped) {
    parts.push(
      `Replaced the earlier memory wiring in scope (${old.dropped} link${old.dropped === 1 ? '' : 's'}${old.resamplers.length ? `, resampling nodes ${old.resamplers.join(', ')}` : ''}).`,
    );
  }
  return { commands, note: parts.join(' ') };
}

/** Why a conversion cannot give the strategy asked for (MAM-SPEC.md section 3). */
function strategyMismatch(asked: 'ISTS' | 'STS'): string {
  return asked === 'STS'
    ? 'a chain inside one stage of a hierarchical network is ISTS by definition (STS crosses stages through Memory Merging or Expanding): convert the encoder, the decoder or the network to STS instead'
    : 'this network is sequential (one stage), where every chain is STS by definition: convert to STS instead';
}

/** The chains as words: "one STS chain through 12 units with 3 memory resampling nodes", "4 ISTS chains (2, 2, 6, 2 units)". */
function describeChains(chains: MemoryChain[]): string {
  if (!chains.length) return 'MAM units without memory links';
  const parts: string[] = [];
  for (const strategy of ['STS', 'ISTS'] as const) {
    const list = chains.filter((c) => c.strategy === strategy);
    if (list.length === 1) {
      const n = list[0].resamplers.length;
      parts.push(
        `one ${strategy} chain through ${list[0].units.length} units${n ? ` with ${n} memory resampling node${n > 1 ? 's' : ''}` : ''}`,
      );
    } else if (list.length > 1) {
      parts.push(
        `${list.length} ${strategy} chains (${list.map((c) => c.units.length).join(', ')} units)`,
      );
    }
  }
  return parts.join(' and ');
}

/** The same nodes and links, in any order: what a user would call unchanged. */
function sameGraph(a: GraphDoc, b: GraphDoc): boolean {
  const text = (d: GraphDoc) =>
    [
      ...d.nodes.map((n) =>
        JSON.stringify([
          n.id,
          n.type,
          n.label,
          n.position,
          Object.entries(n.params).sort(([x], [y]) => (x < y ? -1 : 1)),
        ]),
      ),
      ...d.links.map((l) => JSON.stringify([l.from, l.to])),
    ]
      .sort()
      .join('\n');
  return text(a) === text(b);
}

/** Swap every MAM unit in scope back to SAM; their memory links and the resampling nodes on them go. */
export function convertToSam(
  doc: GraphDoc,
  scope: ConvertScope,
  catalogue: Catalogue,
): ConvertResult {
  const analysis = analyzeGraph(doc, catalogue);
  const stages = stagesInScope(doc, scope, catalogue);
  if ('error' in stages) return stages;
  const byId = new Map(doc.nodes.map((n) => [n.id, n]));
  const units = new Set(
    stages
      .flatMap((s) => s.units)
      .filter((id) => analysis.nodes.get(id)?.kind?.role === 'memory-unit'),
  );
  if (!units.size)
    return { commands: [], note: 'Nothing to convert: no memory-attention units in scope.' };
  const old = memoryWiringOf(doc, units, analysis);
  const commands: Command[] = [];
  if (old.resamplers.length) commands.push({ type: 'remove-nodes', ids: old.resamplers });
  for (const link of old.links) commands.push({ type: 'disconnect', link });
  for (const id of units) {
    const node = byId.get(id) as NodeDoc;
    const sam = catalogue.get(catalogue.get(node.type)?.swapWith ?? '');
    if (!sam) return { error: `'${id}' (${node.type}) has no self-attention counterpart` };
    commands.push({ type: 'set-kind', id, nodeType: sam.type, params: carryParams(node, sam) });
  }
  let note = `Converted ${units.size} unit${units.size === 1 ? '' : 's'} to self-attention; removed ${old.dropped} memory link${old.dropped === 1 ? '' : 's'}`;
  note += old.resamplers.length ? ` and the resampling nodes ${old.resamplers.join(', ')}.` : '.';
  return { commands, note };
}
