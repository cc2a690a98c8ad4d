/**
 * Interaction rules: whether an edit the user attempts on the canvas is
 * allowed, decided on the document alone and before anything changes. A
 * refused edit dispatches nothing, so the document and its history stay
 * exactly as they were.
 */
import type { Catalogue } from './node-kind.ts';
import type { GraphDoc, LinkDoc } from './types.ts';

export type Verdict = { ok: true } | { ok: false; reason: string };

/** The socket kind of a node's port, 'unknown' for a node of an unknown type, undefined when the port does not exist. */
function portOf(
  doc: GraphDoc,
  node: string,
  port: string,
  side: 'inputs' | 'outputs',
  catalogue: Catalogue,
) {
  const n = doc.nodes.find((d) => d.id === node);
  if (!n) return undefined;
  const kind = catalogue.get(n.type);
  if (!kind) return { socket: 'unknown', label: port, title: `'${n.type}'` };
  const p = kind[side].find((q) => q.name === port);
  return p && { socket: p.socket as string, label: p.label, title: kind.title };
}

/** May `link` be drawn? Self-loops, missing ports and links between different socket kinds are refused, in words. */
export function canConnect(doc: GraphDoc, link: LinkDoc, catalogue: Catalogue): Verdict {
  const { from, to } = link;
  if (from.node === to.node)
    return { ok: false, reason: `A node cannot feed itself ('${from.node}').` };
  const a = portOf(doc, from.node, from.port, 'outputs', catalogue);
  if (!a)
    return { ok: false, reason: `Link refused: '${from.node}' has no output '${from.port}'.` };
  const b = portOf(doc, to.node, to.port, 'inputs', catalogue);
  if (!b) return { ok: false, reason: `Link refused: '${to.node}' has no input '${to.port}'.` };
  if (a.socket !== b.socket && a.socket !== 'unknown' && b.socket !== 'unknown') {
    const hint =
      b.socket === 'memory' ? ' Memory links join memory ports (dashed) of MAM units.' : '';
    return {
      ok: false,
      reason: `Link refused: ${a.title} '${from.node}' gives ${a.socket}, but '${b.label}' of ${to.node} takes ${b.socket}.${hint}`,
    };
  }
  return { ok: true };
}

/** What dropping a palette kind on the canvas does. */
export type DropDecision =
  { action: 'add' } | { action: 'swap'; id: string } | { action: 'refuse'; reason: string };

/** May node `id` be swapped in place for a node of kind `type` (its SAM ↔ MAM counterpart)? */
export function canSwapTo(doc: GraphDoc, id: string, type: string, catalogue: Catalogue): boolean {
  const node = doc.nodes.find((n) => n.id === id);
  return !!node && catalogue.get(node.type)?.swapWith === type;
}

/**
 * A kind dropped onto node `target` swaps with it when that node is its
 * counterpart and is refused, in words, otherwise; dropped on empty canvas
 * (no target) it is added.
 */
export function dropDecision(
  doc: GraphDoc,
  type: string,
  target: string | undefined,
  catalogue: Catalogue,
): DropDecision {
  if (target === undefined) return { action: 'add' };
  if (canSwapTo(doc, target, type, catalogue)) return { action: 'swap', id: target };
  const on = doc.nodes.find((n) => n.id === target);
  const title = (t: string | undefined) => (t === undefined ? t : (catalogue.get(t)?.title ?? t));
  return {
    action: 'refuse',
    reason: `A ${title(type)} cannot replace '${target}' (${title(on?.type)}); drop it on empty canvas to add it.`,
  };
}
