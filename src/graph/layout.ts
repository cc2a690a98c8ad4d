/**
 * Automatic arrangement as a U, left to right: the encoder arm on the left
 * with its stages descending row by row (largest grid on top), the decoder
 * arm on the right ascending back to the top, and the transitions (patch
 * merging/expanding, memory merging/expanding) on the lines between the stage
 * rows. Rows come from the token grid of each node (analyzeGraph), columns
 * from token-flow order; the result is deterministic and has no overlaps for
 * nodes up to NODE_BOX in size.
 */
import { getKind } from '../../nodes/index.ts';
import type { Command } from './commands.ts';
import { analyzeGraph, type NodeInfo } from './infer.ts';
import { product, type Shape } from './node-kind.ts';
import type { GraphDoc, NodeDoc } from './types.ts';
import { catalogue } from '../../nodes/index.ts';

/** The node box the layout leaves room for (the editor draws nodes no larger). */
export const NODE_BOX = { width: 220, height: 160 } as const;

/**
 * The size the editor draws a node at (src/rete/view/node.ts) when it shows no
 * problems: header, key parameters and footer, a row per port pair, and a
 * second footer line for the memory-chain badge of MAM units and resamplers.
 * An e2e test measures the rendered nodes against it.
 */
export const NODE_SIZE = { width: 220, base: 89, row: 24, badge: 21 } as const;

export interface Rect {
  x: number;
  y: number;
  width: number;
  height: number;
}

export function nodeSize(type: string): { width: number; height: number } {
  const kind = getKind(type);
  const rows = kind ? Math.max(kind.inputs.length, kind.outputs.length) : 1;
  const badge = kind?.role === 'memory-unit' || kind?.role === 'memory-resampling';
  return {
    width: NODE_SIZE.width,
    height: NODE_SIZE.base + rows * NODE_SIZE.row + (badge ? NODE_SIZE.badge : 0),
  };
}

export const nodeRect = (n: Pick<NodeDoc, 'type' | 'position'>): Rect => ({
  x: n.position[0],
  y: n.position[1],
  ...nodeSize(n.type),
});

/** Whether two boxes come closer than `gap`. */
export const tooClose = (a: Rect, b: Rect, gap = 0): boolean =>
  a.x < b.x + b.width + gap &&
  b.x < a.x + a.width + gap &&
  a.y < b.y + b.height + gap &&
  b.y < a.y + a.height + gap;

const FREE_GAP = 24; // room between a placed node and its neighbours
const FREE_STEP = 12;
const FREE_REACH = 900;
/** Offsets on a grid around a point, nearest first (ties: up before down, left before right). */
const OFFSETS: [number, number][] = (() => {
  const list: [number, number][] = [];
  for (let dy = -FREE_REACH; dy <= FREE_REACH; dy += FREE_STEP)
    for (let dx = -FREE_REACH; dx <= FREE_REACH; dx += FREE_STEP) list.push([dx, dy]);
  return list.sort(
    (a, b) => a[0] ** 2 + a[1] ** 2 - (b[0] ** 2 + b[1] ** 2) || a[1] - b[1] || a[0] - b[0],
  );
})();

/**
 * The free position nearest `want` for a node of `type`: at least FREE_GAP
 * away from every box in `others`. Deterministic.
 */
export function freeSpot(others: Rect[], type: string, want: [number, number]): [number, number] {
  const size = nodeSize(type);
  for (const [dx, dy] of OFFSETS) {
    const r = { x: Math.round(want[0] + dx), y: Math.round(want[1] + dy), ...size };
    if (!others.some((o) => tooClose(r, o, FREE_GAP))) return [r.x, r.y];
  }
  // Everything near is taken: below everything.
  const bottom = Math.max(0, ...others.map((o) => o.y + o.height));
  return [Math.round(want[0]), bottom + FREE_GAP];
}
const COL = 260; // horizontal step: box + 40
const LINE = 200; // vertical step between a stage row and a transition line: box + 40

const gridSize = (s?: Shape) =>
  s && (s.kind === 'tokens' || s.kind === 'memory') ? product(s.grid) : undefined;

/**
 * Nodes to add, each moved from where it would like to be (its position) to
 * the nearest free spot among `doc`'s nodes and the ones placed before it.
 */
export function placeInFreeSpace(doc: GraphDoc, added: NodeDoc[]): NodeDoc[] {
  const others = doc.nodes.map(nodeRect);
  return added.map((n) => {
    const position = freeSpot(others, n.type, n.position);
    others.push(nodeRect({ type: n.type, position }));
    return { ...n, position };
  });
}

export function autoArrange(doc: GraphDoc): Command {
  const a = analyzeGraph(doc, catalogue);
  const rank = new Map(a.order.map((id, i) => [id, i]));
  const ids = [...a.nodes.keys()].sort(
    (x, y) =>
      (rank.get(x) ?? 1e9) - (rank.get(y) ?? 1e9) || a.nodes.get(x)!.index - a.nodes.get(y)!.index,
  );

  // Level of a grid: 0 for the largest token grid, 1 for the next, …
  const sizes = new Set<number>();
  for (const n of a.nodes.values()) {
    for (const s of [...Object.values(n.inputs), ...Object.values(n.outputs)]) {
      const g = gridSize(s);
      if (g !== undefined) sizes.add(g);
    }
  }
  // Shifted so the largest grid any attention block works on is level 0: bigger (image-scale) grids join the top row.
  const sorted = [...sizes].sort((x, y) => y - x);
  const blockSizes = [...a.nodes.values()]
    .filter((n) => n.kind?.role === 'attention' || n.kind?.role === 'memory-unit')
    .map((n) => gridSize(n.inputs.in))
    .filter((g): g is number => g !== undefined);
  const top = blockSizes.length ? sorted.indexOf(Math.max(...blockSizes)) : 0;
  const level = new Map(sorted.map((g, i) => [g, Math.max(0, i - top)]));

  // Line: twice the mean level of a node's token/memory ports (stage rows even, transitions odd).
  const preds = new Map<string, string[]>();
  const succs = new Map<string, string[]>();
  for (const l of doc.links) {
    (preds.get(l.to.node) ?? preds.set(l.to.node, []).get(l.to.node)!).push(l.from.node);
    (succs.get(l.from.node) ?? succs.set(l.from.node, []).get(l.from.node)!).push(l.to.node);
  }
  const line = new Map<string, number>();
  for (const id of ids) {
    const n = a.nodes.get(id) as NodeInfo;
    const levels = [...Object.values(n.inputs), ...Object.values(n.outputs)]
      .map((s) => level.get(gridSize(s) ?? -1))
      .filter((v): v is number => v !== undefined);
    const min = Math.min(...levels);
    const max = Math.max(...levels);
    if (levels.length) line.set(id, min + max);
    else if (n.kind?.role === 'input' || n.kind?.role === 'output' || !preds.get(id)?.length)
      line.set(id, 0);
    else line.set(id, line.get(preds.get(id)!.find((p) => line.has(p)) ?? '') ?? 0); // unknown shapes: stay with what feeds it
  }

  // Arm: decoder scope goes right. Memory resamplers follow the unit they feed (memory links do not carry scope).
  const right = (id: string): boolean => {
    const n = a.nodes.get(id) as NodeInfo;
    if (n.kind?.role !== 'memory-resampling') return n.scope === 'decoder';
    const seen = new Set([id]);
    const stack = [...(succs.get(id) ?? [])];
    while (stack.length) {
      const next = stack.shift() as string;
      if (seen.has(next)) continue;
      seen.add(next);
      const m = a.nodes.get(next);
      if (!m) continue;
      if (m.kind?.role !== 'memory-resampling') return m.scope === 'decoder';
      stack.push(...(succs.get(next) ?? []));
    }
    return n.kind?.type === 'memory-expanding';
  };

  const rows = (arm: string[]) => {
    const byLine = new Map<number, string[]>();
    for (const id of arm)
      (byLine.get(line.get(id)!) ?? byLine.set(line.get(id)!, []).get(line.get(id)!)!).push(id);
    return byLine;
  };
  const left = rows(ids.filter((id) => !right(id)));
  const rightRows = rows(ids.filter(right));
  const moves: { id: string; position: [number, number] }[] = [];
  // Left arm: each line starts half a column further right than the one above (descending).
  let leftEnd = 0;
  for (const [l, list] of left) {
    list.forEach((id, k) => moves.push({ id, position: [(l / 2 + k) * COL, l * LINE] }));
    leftEnd = Math.max(leftEnd, (l / 2 + list.length) * COL);
  }
  // Right arm: mirrored, the deepest line starts leftmost (ascending).
  const deepest = Math.max(0, ...rightRows.keys());
  for (const [l, list] of rightRows) {
    list.forEach((id, k) =>
      moves.push({ id, position: [leftEnd + COL + ((deepest - l) / 2 + k) * COL, l * LINE] }),
    );
  }
  moves.sort((x, y) => a.nodes.get(x.id)!.index - a.nodes.get(y.id)!.index);
  return { type: 'move-nodes', moves };
}
