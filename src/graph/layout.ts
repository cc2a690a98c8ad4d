/**
 * Automatic arrangement as a compact U: image-scale ends on the top row (input
 * on the left, head and output on the right), encoder stages descending down
 * the left, the bottleneck centred at the bottom, decoder stages ascending on
 * the right on the rows of their mirror encoder stages (skip links run
 * across), and the transitions (patch merging/expanding) on the lines between
 * stage rows. A hybrid CNN + ViT (DA-TransUNet) gets the same U: its ResNet
 * stages down the left by down-sampling factor, the ViT blocks at the bottom,
 * what follows them (encoder norm, CUP decoder) up the right, skips across.
 * A token pyramid beside a CNN at the same scales (SwinUNETR) shares the CNN's
 * rows: each Swin stage on the row of the CNN encoder block its hidden state
 * feeds, the decoder's up-blocks across from their skips.
 * A line longer than the arrangement is wide wraps into rows
 * (sequential ViT graphs too); the width is chosen so the whole graph shows
 * largest in the editor's canvas. Memory merging/expanding nodes go between
 * the units they join, in free space, as conversions place them. Rows come
 * from the token grid of each node (analyzeGraph), order from token flow; the
 * result is deterministic and has no overlaps for nodes up to NODE_BOX in size.
 */
import type { Command } from './commands.ts';
import { analyzeGraph, type Analysis, type NodeInfo } from './infer.ts';
import { product, type Catalogue, type Shape } from './node-kind.ts';
import type { GraphDoc, NodeDoc } from './types.ts';

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

export function nodeSize(type: string, catalogue: Catalogue): { width: number; height: number } {
  const kind = catalogue.get(type);
  const rows = kind ? Math.max(kind.inputs.length, kind.outputs.length) : 1;
  const badge = kind?.role === 'memory-unit' || kind?.role === 'memory-resampling';
  return {
    width: NODE_SIZE.width,
    height: NODE_SIZE.base + rows * NODE_SIZE.row + (badge ? NODE_SIZE.badge : 0),
  };
}

export const nodeRect = (n: Pick<NodeDoc, 'type' | 'position'>, catalogue: Catalogue): Rect => ({
  x: n.position[0],
  y: n.position[1],
  ...nodeSize(n.type, catalogue),
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
export function freeSpot(
  others: Rect[],
  type: string,
  want: [number, number],
  catalogue: Catalogue,
): [number, number] {
  const size = nodeSize(type, catalogue);
  for (const [dx, dy] of OFFSETS) {
    const r = { x: Math.round(want[0] + dx), y: Math.round(want[1] + dy), ...size };
    if (!others.some((o) => tooClose(r, o, FREE_GAP))) return [r.x, r.y];
  }
  // Everything near is taken: below everything.
  const bottom = Math.max(0, ...others.map((o) => o.y + o.height));
  return [Math.round(want[0]), bottom + FREE_GAP];
}
const COL = 250; // horizontal pitch: node width 220 + 30
const ROW = 200; // vertical pitch: NODE_BOX height 160 + 40

/** The canvas the arrangement is shaped for: the editor's at a 1280×800 window. */
export const LAYOUT_VIEW = { width: 760, height: 715 } as const;

/** The point a fraction `t` of the way from `a` to `b`, rounded: where a resampling node wants to be. */
export const pointBetween = (
  a: [number, number],
  b: [number, number],
  t: number,
): [number, number] => [Math.round(a[0] + (b[0] - a[0]) * t), Math.round(a[1] + (b[1] - a[1]) * t)];

/** The bounding box of nodes as drawn under the size model. */
export function boundingBox(
  nodes: Pick<NodeDoc, 'type' | 'position'>[],
  catalogue: Catalogue,
): Rect {
  const rects = nodes.map((n) => nodeRect(n, catalogue));
  const x = Math.min(...rects.map((r) => r.x));
  const y = Math.min(...rects.map((r) => r.y));
  return {
    x,
    y,
    width: Math.max(...rects.map((r) => r.x + r.width)) - x,
    height: Math.max(...rects.map((r) => r.y + r.height)) - y,
  };
}

const gridSize = (s?: Shape) =>
  s && (s.kind === 'tokens' || s.kind === 'memory') ? product(s.grid) : undefined;

/**
 * Nodes to add, each moved from where it would like to be (its position) to
 * the nearest free spot among `doc`'s nodes and the ones placed before it.
 */
export function placeInFreeSpace(doc: GraphDoc, added: NodeDoc[], catalogue: Catalogue): NodeDoc[] {
  const others = doc.nodes.map((n) => nodeRect(n, catalogue));
  return added.map((n) => {
    const position = freeSpot(others, n.type, n.position, catalogue);
    others.push(nodeRect({ type: n.type, position }, catalogue));
    return { ...n, position };
  });
}

type Links = Map<string, string[]>;

/** The side of an image (or mask) shape: the geometric mean of its spatial sizes. */
const sideOf = (s?: Shape) =>
  s && (s.kind === 'image' || s.kind === 'mask')
    ? product(s.spatial) ** (1 / s.spatial.length)
    : undefined;

/** The side of a token grid, rounded: the geometric mean of its sizes. */
const gridSideOf = (s?: Shape) =>
  s && (s.kind === 'tokens' || s.kind === 'memory')
    ? Math.round(product(s.grid) ** (1 / s.grid.length))
    : undefined;

/**
 * The line of each node: 2 × the mean level of its grids (stage rows even,
 * transitions odd), and -1 for the image-scale ends (input, embedding, head,
 * output). A CNN's feature maps below the input's resolution (DA-TransUNet's
 * ResNet stages and CUP decoder) take levels by their down-sampling factor,
 * 0 for /2, 1 for /4, …; the token grids go below the deepest of them, level 0
 * there being the largest grid an attention block works on.
 */
function linesOf(
  a: Analysis,
  ids: string[],
  preds: Links,
): { line: Map<string, number>; shared: boolean } {
  const sizes = new Set<number>();
  for (const n of a.nodes.values()) {
    for (const s of [...Object.values(n.inputs), ...Object.values(n.outputs)]) {
      const g = gridSize(s);
      if (g !== undefined) sizes.add(g);
    }
  }
  // Shifted so the largest grid any attention block works on is level 0: bigger grids are image scale.
  const sorted = [...sizes].sort((x, y) => y - x);
  const blockSizes = [...a.nodes.values()]
    .filter((n) => n.kind?.role === 'attention' || n.kind?.role === 'memory-unit')
    .map((n) => gridSize(n.inputs.in))
    .filter((g): g is number => g !== undefined);
  const top = blockSizes.length ? sorted.indexOf(Math.max(...blockSizes)) : 0;
  const level = new Map(sorted.map((g, i) => [g, Math.max(-1, i - top)]));
  const sides = [...a.nodes.values()].flatMap((n) =>
    [...Object.values(n.inputs), ...Object.values(n.outputs)].map(sideOf),
  );
  const full = Math.max(0, ...sides.filter((v) => v !== undefined));
  const imageLevel = (side: number) => Math.round(Math.log2(full / side)) - 1;
  const cnnDepth = Math.max(-1, ...sides.filter((v) => v !== undefined).map(imageLevel)) + 1;
  // A token pyramid beside a CNN at the same scales (SwinUNETR: its hidden states feed a CNN
  // encoder at every stage) shares the CNN's levels, so each stage row holds both.
  const imageSides = new Set(sides.filter((v) => v !== undefined).map(Math.round));
  const tokenSides = new Set(
    [...a.nodes.values()].flatMap((n) =>
      [...Object.values(n.inputs), ...Object.values(n.outputs)].map(gridSideOf),
    ),
  );
  const shared = [...tokenSides].filter((t) => t !== undefined && imageSides.has(t)).length >= 2;
  const levelOf = (s?: Shape) => {
    const side = sideOf(s) ?? (shared ? gridSideOf(s) : undefined);
    if (side !== undefined) return Math.max(-1, imageLevel(side));
    const l = level.get(gridSize(s) ?? -1);
    return l === undefined || l < 0 ? l : l + cnnDepth;
  };

  const line = new Map<string, number>();
  for (const id of ids) {
    const n = a.nodes.get(id) as NodeInfo;
    const levels = [...Object.values(n.inputs), ...Object.values(n.outputs)]
      .map(levelOf)
      .filter((v): v is number => v !== undefined);
    // Beside a CNN, a decoder's up-block sits on the row of what it makes, across from its skip.
    const out = levelOf(Object.values(n.outputs)[0]);
    if (shared && n.scope === 'decoder' && out !== undefined) line.set(id, Math.max(-1, 2 * out));
    else if (levels.length) line.set(id, Math.max(-1, Math.min(...levels) + Math.max(...levels)));
    else if (n.kind?.role === 'input' || n.kind?.role === 'output' || !preds.get(id)?.length)
      line.set(id, -1);
    else line.set(id, line.get(preds.get(id)!.find((p) => line.has(p)) ?? '') ?? -1); // unknown shapes: stay with what feeds it
  }
  return { line, shared };
}

interface Span {
  from: string;
  to: string;
  /** This node is the k-th of `steps` resampling nodes from `from` to `to`. */
  k: number;
  steps: number;
}

/** Memory resampling nodes with the units they sit between (those linked at both ends). */
function resamplerSpans(a: Analysis, preds: Links, succs: Links): Map<string, Span> {
  const isResampler = (id: string) => a.nodes.get(id)?.kind?.role === 'memory-resampling';
  const spans = new Map<string, Span>();
  for (const id of a.nodes.keys()) {
    if (!isResampler(id)) continue;
    const before: string[] = [];
    let from = preds.get(id)?.[0];
    while (from && isResampler(from) && !before.includes(from)) {
      before.push(from);
      from = preds.get(from)?.[0];
    }
    const after: string[] = [];
    let to = succs.get(id)?.[0];
    while (to && isResampler(to) && !after.includes(to)) {
      after.push(to);
      to = succs.get(to)?.[0];
    }
    if (!from || !to || isResampler(from) || isResampler(to)) continue;
    spans.set(id, { from, to, k: before.length + 1, steps: before.length + after.length + 1 });
  }
  return spans;
}

interface Line {
  line: number;
  left: string[];
  right: string[];
}

/**
 * Grid cells (column, row) for lines of nodes in `columns` columns: a line's
 * encoder nodes from the left edge, wrapped downwards; its decoder nodes
 * against the right edge, wrapped upwards (a short last row flush right);
 * both arms of a line on the same rows, so skip links run across. Transitions
 * sit at the start of the row they lead into; a one-armed deepest line (the
 * bottleneck) is centred.
 */
function gridCells(lines: Line[], columns: number): Map<string, [number, number]> {
  const shape = lines.map(({ left, right }) => {
    let rows = 1;
    while (Math.ceil(left.length / rows) + Math.ceil(right.length / rows) > columns) rows++;
    const wl = Math.ceil(left.length / rows);
    const wr = Math.ceil(right.length / rows);
    return { rows, wl, wr, ls: 0, rs: columns - wr };
  });
  const last = shape[shape.length - 1];
  if (last && (last.wl === 0 || last.wr === 0)) {
    last.ls = (columns - last.wl) / 2;
    last.rs = (columns - last.wr) / 2;
  }
  lines.forEach(({ line }, i) => {
    if (line < 0 || line % 2 === 0) return;
    const s = shape[i];
    const below = shape[i + 1];
    const above = shape[i - 1];
    const ls = below?.wl ? below.ls : s.ls;
    const rs = above?.wr ? above.rs : s.rs;
    if (!s.wl || !s.wr || ls + s.wl <= rs) [s.ls, s.rs] = [ls, rs];
  });
  const cells = new Map<string, [number, number]>();
  let row0 = 0;
  lines.forEach(({ left, right }, i) => {
    const { rows, wl, wr, ls, rs } = shape[i];
    left.forEach((id, j) => cells.set(id, [ls + (j % wl), row0 + Math.floor(j / wl)]));
    // A short last row of the decoder keeps to the right edge, apart from the encoder's row.
    right.forEach((id, j) => {
      const chunk = Math.floor(j / wr);
      const pad = wr - Math.min(wr, right.length - chunk * wr);
      cells.set(id, [rs + pad + (j % wr), row0 + rows - 1 - chunk]);
    });
    row0 += rows;
  });
  return cells;
}

/**
 * Arranges the graph as a compact U (see the top of this file), choosing the
 * number of columns that shows it largest in LAYOUT_VIEW. Deterministic, and
 * independent of the nodes' current positions.
 */
export function autoArrange(doc: GraphDoc, catalogue: Catalogue): Command {
  const a = analyzeGraph(doc, catalogue);
  const rank = new Map(a.order.map((id, i) => [id, i]));
  const ids = [...a.nodes.keys()].sort(
    (x, y) =>
      (rank.get(x) ?? 1e9) - (rank.get(y) ?? 1e9) || a.nodes.get(x)!.index - a.nodes.get(y)!.index,
  );
  const preds: Links = new Map();
  const succs: Links = new Map();
  for (const l of doc.links) {
    (preds.get(l.to.node) ?? preds.set(l.to.node, []).get(l.to.node)!).push(l.from.node);
    (succs.get(l.from.node) ?? succs.set(l.from.node, []).get(l.from.node)!).push(l.to.node);
  }
  const spans = resamplerSpans(a, preds, succs);
  const gridIds = ids.filter((id) => !spans.has(id));
  const { line, shared } = linesOf(a, gridIds, preds);

  // Arm: decoder scope goes right, and so does what follows the deepest line in token flow
  // (DA-TransUNet's encoder norm and conv_more, on the way up). Memory resamplers follow
  // the unit they feed (memory links do not carry scope).
  const deepest = Math.max(...line.values());
  const afterBottom = Math.max(
    ...gridIds.filter((id) => line.get(id) === deepest).map((id) => rank.get(id) ?? -1),
  );
  const right = (id: string): boolean => {
    const n = a.nodes.get(id) as NodeInfo;
    if (n.kind?.role !== 'memory-resampling')
      return n.scope === 'decoder' || (rank.get(id) ?? -1) > afterBottom;
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
  const makesImage = (id: string) =>
    Object.values(a.nodes.get(id)?.outputs ?? {}).some((s) => s?.kind === 'image');
  const lines: Line[] = [...new Set(line.values())]
    .sort((x, y) => x - y)
    .map((l) => {
      const on = gridIds.filter((id) => line.get(id) === l);
      const left = on.filter((id) => !right(id));
      // Beside a CNN, a stage row's blocks come first and its branch into the CNN (the hidden
      // state and the encoder block that feed the skip) last, nearest the decoder.
      if (shared && l >= 0) left.sort((x, y) => Number(makesImage(x)) - Number(makesImage(y)));
      return { line: l, left, right: on.filter(right) };
    });

  // The number of columns that shows the arrangement largest.
  const byType = new Map(doc.nodes.map((n) => [n.id, n.type]));
  const widest = Math.max(1, ...lines.map((l) => l.left.length + l.right.length));
  const options: { zoom: number; wraps: number; cells: Map<string, [number, number]> }[] = [];
  for (let columns = 1; columns <= widest; columns++) {
    if (lines.some((l) => l.left.length && l.right.length) && columns < 2) continue;
    const cells = gridCells(lines, columns);
    const box = boundingBox(
      [...cells].map(([id, [c, r]]) => ({ type: byType.get(id)!, position: [c * COL, r * ROW] })),
      catalogue,
    );
    const zoom = Math.min(LAYOUT_VIEW.width / box.width, LAYOUT_VIEW.height / box.height);
    const rows = new Set([...cells.values()].map(([, r]) => r)).size;
    options.push({ zoom, wraps: rows - lines.length, cells });
  }
  // Within a few percent of the largest zoom, the one that wraps the fewest lines.
  const top = Math.max(...options.map((o) => o.zoom));
  const best = options
    .filter((o) => o.zoom >= top * 0.95)
    .sort((x, y) => x.wraps - y.wraps || y.zoom - x.zoom)[0];
  const at = new Map<string, [number, number]>(
    [...(best?.cells ?? [])].map(([id, [c, r]]) => [id, [Math.round(c * COL), r * ROW]]),
  );

  // Resampling nodes: between the units they join, in free space, as conversions place them.
  const placed = doc.nodes
    .filter((n) => at.has(n.id))
    .map((n) => ({ ...n, position: at.get(n.id)! }));
  const wanted = [...spans]
    .sort(([x], [y]) => (rank.get(x) ?? 1e9) - (rank.get(y) ?? 1e9))
    .map(([id, s]) => ({
      ...(doc.nodes.find((n) => n.id === id) as NodeDoc),
      position: pointBetween(at.get(s.from)!, at.get(s.to)!, s.k / (s.steps + 1)),
    }));
  for (const n of placeInFreeSpace({ ...doc, nodes: placed }, wanted, catalogue))
    at.set(n.id, n.position);

  const moves = doc.nodes.map((n) => ({ id: n.id, position: at.get(n.id) ?? n.position }));
  return { type: 'move-nodes', moves };
}
