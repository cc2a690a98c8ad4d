/** A node as the palette adds it: a fresh id and every parameter at its kind's default. */
import type { Catalogue } from './node-kind.ts';
import type { GraphDoc, NodeDoc } from './types.ts';

/** A fresh node id for a kind: `swin_block_3`. */
export function freshId(doc: GraphDoc, type: string): string {
  const prefix = type.replace(/[^a-zA-Z0-9]+/g, '_');
  const taken = new Set(doc.nodes.map((n) => n.id));
  let i = 1;
  while (taken.has(`${prefix}_${i}`)) i++;
  return `${prefix}_${i}`;
}

export function newNode(
  doc: GraphDoc,
  type: string,
  position: [number, number],
  catalogue: Catalogue,
): NodeDoc | undefined {
  const kind = catalogue.get(type);
  if (!kind) return undefined;
  const params = Object.fromEntries(kind.params.map((p) => [p.name, structuredClone(p.default)]));
  return { id: freshId(doc, type), type, params, position };
}
