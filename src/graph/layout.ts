/**
 * Automatic arrangement as a U, left to right: the encoder arm on the left
 * with its stages descending row by row (largest grid on top), the decoder
 * arm on the right ascending back to the top, and the transitions (patch
 * merging/expanding, memory merging/expanding) on the lines between the stage
 * rows. Rows come from the token grid of each node (analyzeGraph), columns
 * from token-flow order; the result is deterministic and has no overlaps for
 * nodes up to NODE_BOX in size.
 */
import type { Command } from './commands.ts';
import { analyzeGraph, type NodeInfo } from './infer.ts';
import { product, type Shape } from './node-kind.ts';
import type { GraphDoc } from './types.ts';

/** The node box the layout leaves room for (the editor draws nodes no larger). */
export const NODE_BOX = { width: 220, height: 160 } as const;
const COL = 260; // horizontal step: box + 40
const LINE = 200; // vertical step between a stage row and a transition line: box + 40

const gridSize = (s?: Shape) =>
  s && (s.kind === 'tokens' || s.kind === 'memory') ? product(s.grid) : undefined;

export function autoArrange(doc: GraphDoc): Command {
  const a = analyzeGraph(doc);
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
