/**
 * Swapping a block for its SAM ↔ MAM counterpart in place. The node keeps its
 * id (so its weights, keyed by id and weight name, stay), position, label,
 * place in the file and token links; parameters both kinds declare are kept,
 * the rest get the new kind's defaults. Memory links of a unit that becomes
 * SAM are removed, and the note says which.
 */
import type { Command } from './commands.ts';
import type { Catalogue, NodeKind } from './node-kind.ts';
import type { GraphDoc, LinkDoc, NodeDoc, ParamValue } from './types.ts';

export type SwapResult = { commands: Command[]; note: string } | { error: string };

const describeLink = (l: LinkDoc) => `${l.from.node}.${l.from.port} → ${l.to.node}.${l.to.port}`;

/** The parameters of `node` carried over to kind `to`: shared values kept, others defaulted, the rest dropped. */
export function carryParams(node: NodeDoc, to: NodeKind): Record<string, ParamValue> {
  const out: Record<string, ParamValue> = {};
  for (const spec of to.params) {
    const v = node.params[spec.name];
    out[spec.name] = structuredClone(v !== undefined ? v : spec.default);
  }
  return out;
}

/** Links touching `id` at a port that kind `to` does not have. */
function linksLostBy(doc: GraphDoc, id: string, to: NodeKind): LinkDoc[] {
  const hasIn = new Set(to.inputs.map((p) => p.name));
  const hasOut = new Set(to.outputs.map((p) => p.name));
  return doc.links.filter(
    (l) =>
      (l.to.node === id && !hasIn.has(l.to.port)) ||
      (l.from.node === id && !hasOut.has(l.from.port)),
  );
}

/**
 * Commands that turn node `id` into its counterpart kind (`swapWith` of its
 * kind), or into `toType` when given (it must be that counterpart).
 */
export function swapNodeKind(
  doc: GraphDoc,
  id: string,
  toType: string | undefined,
  catalogue: Catalogue,
): SwapResult {
  const node = doc.nodes.find((n) => n.id === id);
  if (!node) return { error: `there is no node '${id}' to swap` };
  const from = catalogue.get(node.type);
  if (!from)
    return {
      error: `node '${id}' has the unknown kind '${node.type}', so it has no counterpart to swap with`,
    };
  if (toType !== undefined && toType === node.type)
    return { error: `node '${id}' is already a ${from.title}` };
  if (!from.swapWith) return { error: `a ${from.title} has no SAM/MAM counterpart to swap with` };
  if (toType !== undefined && toType !== from.swapWith) {
    return { error: `a ${from.title} swaps only with '${from.swapWith}', not with '${toType}'` };
  }
  const to = catalogue.get(from.swapWith);
  if (!to)
    throw new Error(`catalogue: '${from.type}' names the missing counterpart '${from.swapWith}'`);
  const lost = linksLostBy(doc, id, to);
  const commands: Command[] = [
    ...lost.map((link): Command => ({ type: 'disconnect', link })),
    { type: 'set-kind', id, nodeType: to.type, params: carryParams(node, to) },
  ];
  let note = `'${id}' is now a ${to.title}; its id, weights and token links are kept.`;
  if (lost.length) {
    note += ` Removed ${lost.length} memory link${lost.length > 1 ? 's' : ''} (${lost.map(describeLink).join('; ')}).`;
  }
  return { commands, note };
}
