/**
 * The canvas as a PNG, drawn from the document and its analysis (boxes,
 * links, labels) rather than screenshotting the DOM, with the graph file
 * embedded so the image opens back as the graph.
 */
import type { Analysis } from '../src/graph/infer.ts';
import { describeShape, type Catalogue } from '../src/graph/node-kind.ts';
import type { GraphDoc, NodeDoc } from '../src/graph/types.ts';
import { embedGraphInPng } from '../src/share/index.ts';
import {
  SOCKET_COLORS,
  formatCount,
  headerColor,
  keyParams,
  shortMessage,
  shortTitle,
} from '../src/rete/index.ts';

const W = 220;
const HEAD = 38;
const KEYS = 22;
const ROW = 24;
const FOOT = 24;
const PAD = 40;
const MAX_SIDE = 8000;

/** Draws the graph with the node kinds of `catalogue` (the one the analysis was made with). */
export function drawGraph(
  doc: GraphDoc,
  analysis: Analysis,
  catalogue: Catalogue,
): HTMLCanvasElement {
  const getKind = (type: string) => catalogue.get(type);
  const rowsOf = (n: NodeDoc) => {
    const k = getKind(n.type);
    return Math.max(k?.inputs.length ?? 1, k?.outputs.length ?? 1, 1);
  };
  const portY = (n: NodeDoc, port: string, side: 'inputs' | 'outputs') => {
    const k = getKind(n.type);
    const i = Math.max(0, k?.[side].findIndex((p) => p.name === port) ?? 0);
    return n.position[1] + HEAD + KEYS + i * ROW + ROW / 2;
  };
  const nodes = new Map<string, NodeDoc>();
  for (const n of doc.nodes) if (!nodes.has(n.id)) nodes.set(n.id, n);
  const heightOf = (n: NodeDoc) =>
    HEAD +
    KEYS +
    rowsOf(n) * ROW +
    FOOT +
    (analysis.nodes.get(n.id)?.issues.filter((i) => i.severity === 'error').length ?? 0) * 18;
  const list = [...nodes.values()];
  const minX = Math.min(0, ...list.map((n) => n.position[0])) - PAD;
  const minY = Math.min(0, ...list.map((n) => n.position[1])) - PAD;
  const maxX = Math.max(400, ...list.map((n) => n.position[0] + W)) + PAD;
  const maxY = Math.max(300, ...list.map((n) => n.position[1] + heightOf(n))) + PAD;
  const scale = Math.min(1, MAX_SIDE / (maxX - minX), MAX_SIDE / (maxY - minY));
  const canvas = document.createElement('canvas');
  canvas.width = Math.ceil((maxX - minX) * scale);
  canvas.height = Math.ceil((maxY - minY) * scale);
  const g = canvas.getContext('2d') as CanvasRenderingContext2D;
  g.scale(scale, scale);
  g.translate(-minX, -minY);
  g.fillStyle = '#f8fafc';
  g.fillRect(minX, minY, maxX - minX, maxY - minY);

  const chainOfLink = new Map<number, string>();
  analysis.chains.forEach((c) => c.links.forEach((l) => chainOfLink.set(l, c.strategy)));
  doc.links.forEach((l, i) => {
    const a = nodes.get(l.from.node);
    const b = nodes.get(l.to.node);
    if (!a || !b) return;
    const socket =
      getKind(a.type)?.outputs.find((p) => p.name === l.from.port)?.socket ?? 'unknown';
    const x1 = a.position[0] + W;
    const y1 = portY(a, l.from.port, 'outputs');
    const x2 = b.position[0];
    const y2 = portY(b, l.to.port, 'inputs');
    const bad = analysis.linkIssues.has(i);
    g.strokeStyle = bad ? '#dc2626' : SOCKET_COLORS[socket];
    g.lineWidth = 3;
    g.setLineDash(socket === 'memory' ? [9, 6] : []);
    const dx = Math.abs(x2 - x1) * 0.3;
    g.beginPath();
    g.moveTo(x1, y1);
    g.bezierCurveTo(x1 + dx, y1, x2 - dx, y2, x2, y2);
    g.stroke();
    g.setLineDash([]);
    const label = bad
      ? `⚠ ${shortMessage(analysis.linkIssues.get(i)?.[0]?.message ?? '').slice(0, 40)}`
      : chainOfLink.get(i);
    if (label)
      pill(
        g,
        (x1 + x2) / 2,
        (y1 + y2) / 2,
        label,
        bad ? '#fef2f2' : '#fef3c7',
        bad ? '#b91c1c' : '#92400e',
      );
  });

  for (const n of list) {
    const kind = getKind(n.type);
    const info = analysis.nodes.get(n.id);
    const [x, y] = n.position;
    const h = heightOf(n);
    const errors = info?.issues.filter((i) => i.severity === 'error') ?? [];
    g.fillStyle = '#fff';
    g.strokeStyle = errors.length ? '#dc2626' : '#cbd5e1';
    g.lineWidth = 1.5;
    roundRect(g, x, y, W, h, 8);
    g.fill();
    g.stroke();
    g.fillStyle = headerColor({ kind });
    roundRect(g, x, y, W, HEAD, 8, true);
    g.fill();
    g.fillStyle = '#fff';
    g.font = '600 13px system-ui, sans-serif';
    text(g, kind ? shortTitle(kind.title) : `Unknown '${n.type}'`, x + 9, y + 15, W - 18);
    g.font = '11px monospace';
    text(g, n.label ? `${n.label} · ${n.id}` : n.id, x + 9, y + 30, W - 18);
    g.fillStyle = '#475569';
    g.font = '11px system-ui, sans-serif';
    text(g, kind ? keyParams(kind.params, n.params) : 'not computed', x + 9, y + HEAD + 15, W - 18);
    g.font = '12px system-ui, sans-serif';
    kind?.inputs.forEach((p, i) => {
      dot(g, x, y + HEAD + KEYS + i * ROW + ROW / 2, SOCKET_COLORS[p.socket]);
      g.fillStyle = '#334155';
      text(g, p.label, x + 10, y + HEAD + KEYS + i * ROW + ROW / 2 + 4, W / 2 - 10);
    });
    kind?.outputs.forEach((p, i) => {
      const cy = y + HEAD + KEYS + i * ROW + ROW / 2;
      dot(g, x + W, cy, SOCKET_COLORS[p.socket]);
      const s = info?.outputs[p.name];
      g.fillStyle = '#0f172a';
      g.font = '11px monospace';
      g.textAlign = 'right';
      g.fillText(`${p.label} ${s ? describeShape(s) : '?'}`, x + W - 10, cy + 4);
      g.textAlign = 'left';
    });
    g.fillStyle = '#475569';
    g.font = '11px system-ui, sans-serif';
    const fy = y + HEAD + KEYS + rowsOf(n) * ROW + 16;
    text(
      g,
      `${formatCount(info?.params ?? 0)} params · ${formatCount((info?.macs.linearConv ?? 0) + (info?.macs.attention ?? 0))} MACs`,
      x + 9,
      fy,
      W - 18,
    );
    g.fillStyle = '#991b1b';
    errors.forEach((e, i) => text(g, shortMessage(e.message), x + 9, fy + 18 * (i + 1), W - 18));
  }
  return canvas;
}

function roundRect(
  g: CanvasRenderingContext2D,
  x: number,
  y: number,
  w: number,
  h: number,
  r: number,
  topOnly = false,
) {
  g.beginPath();
  g.roundRect(x, y, w, h, topOnly ? [r, r, 0, 0] : r);
}

function dot(g: CanvasRenderingContext2D, x: number, y: number, color: string) {
  g.fillStyle = color;
  g.beginPath();
  g.arc(x, y, 6, 0, Math.PI * 2);
  g.fill();
}

function text(g: CanvasRenderingContext2D, s: string, x: number, y: number, maxWidth: number) {
  let t = s;
  while (t.length > 1 && g.measureText(t).width > maxWidth) t = t.slice(0, -2) + '…';
  g.fillText(t, x, y);
}

function pill(
  g: CanvasRenderingContext2D,
  x: number,
  y: number,
  label: string,
  bg: string,
  fg: string,
) {
  g.font = '600 12px system-ui, sans-serif';
  const w = g.measureText(label).width + 14;
  g.fillStyle = bg;
  g.strokeStyle = fg;
  g.lineWidth = 1;
  g.beginPath();
  g.roundRect(x - w / 2, y - 10, w, 20, 10);
  g.fill();
  g.stroke();
  g.fillStyle = fg;
  g.textAlign = 'center';
  g.fillText(label, x, y + 4);
  g.textAlign = 'left';
}

/** The PNG bytes of the drawn graph with the graph file embedded. */
export async function exportGraphPng(
  doc: GraphDoc,
  analysis: Analysis,
  catalogue: Catalogue,
): Promise<Uint8Array> {
  const canvas = drawGraph(doc, analysis, catalogue);
  const blob = await new Promise<Blob>((resolve, reject) =>
    canvas.toBlob(
      (b) => (b ? resolve(b) : reject(new Error('the canvas could not be encoded as PNG'))),
      'image/png',
    ),
  );
  return embedGraphInPng(new Uint8Array(await blob.arrayBuffer()), doc);
}
