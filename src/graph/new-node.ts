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

/** Where a node is placed, in whole canvas units. */
const whole = (x: number, y: number): [number, number] => [Math.round(x), Math.round(y)];

/** A node dropped from the palette: its title bar under the pointer (canvas units). */
export const dropPosition = (pointer: { x: number; y: number }): [number, number] =>
  whole(pointer.x - 20, pointer.y - 14);

/**
 * A node added without a pointer (a palette click): centred in the view of
 * `size` screen px under `transform` (zoom k, then translation x, y), for a
 * node of about 220 × 120.
 */
export function centrePosition(
  transform: { k: number; x: number; y: number },
  size: { width: number; height: number },
): [number, number] {
  const { k, x, y } = transform;
  return whole((size.width / 2 - x) / k - 110, (size.height / 2 - y) / k - 60);
}

/** A node added at a canvas point (the context menu's pointer): there, in whole units. */
export const pointPosition = (at: [number, number]): [number, number] => whole(at[0], at[1]);
