// What "the same graph" means in conversion tests: the nodes (type, params, position) by id and
// the links as a set, whatever their order in the file.
import { applyCommand, type Command } from '../../src/graph/commands.ts';
import type { GraphDoc } from '../../src/graph/types.ts';

/** The document after a conversion or swap; its error, thrown. */
export const applyResult = (doc: GraphDoc, r: { commands: Command[] } | { error: string }) => {
  if ('error' in r) throw new Error(r.error);
  return r.commands.reduce(applyCommand, doc);
};

/** The graph: nodes (type, params, position) by id and the links as a set. */
export const graphOf = (doc: GraphDoc) => ({
  nodes: Object.fromEntries(
    doc.nodes.map((n) => [n.id, { type: n.type, params: n.params, position: n.position }]),
  ),
  links: doc.links.map((l) => `${l.from.node}.${l.from.port}>${l.to.node}.${l.to.port}`).sort(),
});
