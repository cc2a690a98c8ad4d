/**
 * The difference between two graph documents, node by node (by id, as the
 * presets name nodes by their reference module path): nodes only in one,
 * nodes whose kind changed (a SAM block that became a MAM unit), parameters
 * that changed, and the links added or removed, memory links (the ISTS/STS
 * chains) told apart from the token flow. Positions and labels are not
 * compared. Pure: the compare view of runs shows it.
 */
import type { Catalogue } from './node-kind.ts';
import type { GraphDoc, LinkDoc, ParamValue } from './types.ts';

export interface NodeRef {
  id: string;
  type: string;
}

export interface ParamChange {
  name: string;
  /** Undefined where the parameter is absent on that side. */
  from: ParamValue | undefined;
  to: ParamValue | undefined;
}

export interface GraphDifference {
  /** Nodes only in the second graph, only in the first, in document order. */
  added: NodeRef[];
  removed: NodeRef[];
  /** Nodes in both whose kind differs. */
  retyped: { id: string; from: string; to: string }[];
  /** Nodes in both whose parameters differ (whatever their kinds). */
  changed: { id: string; params: ParamChange[] }[];
  /** Links only in one graph, split into memory links and the rest. */
  memoryLinks: { added: LinkDoc[]; removed: LinkDoc[] };
  links: { added: LinkDoc[]; removed: LinkDoc[] };
}

const linkKey = (l: LinkDoc) => `${l.from.node}.${l.from.port}→${l.to.node}.${l.to.port}`;

const same = (a: ParamValue | undefined, b: ParamValue | undefined) =>
  JSON.stringify(a) === JSON.stringify(b);

/** A link carries memory when its source port's socket is a memory socket. */
function isMemory(doc: GraphDoc, l: LinkDoc, catalogue: Catalogue): boolean {
  const type = doc.nodes.find((n) => n.id === l.from.node)?.type;
  const port = type && catalogue.get(type)?.outputs.find((p) => p.name === l.from.port);
  return port ? port.socket === 'memory' : false;
}

export function graphDifference(a: GraphDoc, b: GraphDoc, catalogue: Catalogue): GraphDifference {
  const inA = new Map(a.nodes.map((n) => [n.id, n]));
  const inB = new Map(b.nodes.map((n) => [n.id, n]));
  const d: GraphDifference = {
    added: b.nodes.filter((n) => !inA.has(n.id)).map(({ id, type }) => ({ id, type })),
    removed: a.nodes.filter((n) => !inB.has(n.id)).map(({ id, type }) => ({ id, type })),
    retyped: [],
    changed: [],
    memoryLinks: { added: [], removed: [] },
    links: { added: [], removed: [] },
  };
  for (const nb of b.nodes) {
    const na = inA.get(nb.id);
    if (!na) continue;
    if (na.type !== nb.type) d.retyped.push({ id: nb.id, from: na.type, to: nb.type });
    const names = [...new Set([...Object.keys(na.params ?? {}), ...Object.keys(nb.params ?? {})])];
    const params = names
      .filter((k) => !same(na.params?.[k], nb.params?.[k]))
      .map((name) => ({ name, from: na.params?.[name], to: nb.params?.[name] }));
    if (params.length) d.changed.push({ id: nb.id, params });
  }
  const keysA = new Set(a.links.map(linkKey));
  const keysB = new Set(b.links.map(linkKey));
  for (const l of b.links)
    if (!keysA.has(linkKey(l))) (isMemory(b, l, catalogue) ? d.memoryLinks : d.links).added.push(l);
  for (const l of a.links)
    if (!keysB.has(linkKey(l)))
      (isMemory(a, l, catalogue) ? d.memoryLinks : d.links).removed.push(l);
  return d;
}

/** Whether two graphs differ in anything graphDifference compares. */
export function hasDifference(d: GraphDifference): boolean {
  return (
    d.added.length +
      d.removed.length +
      d.retyped.length +
      d.changed.length +
      d.memoryLinks.added.length +
      d.memoryLinks.removed.length +
      d.links.added.length +
      d.links.removed.length >
    0
  );
}

/** A link in words, `a.memOut → b.memIn`. */
export const linkWords = (l: LinkDoc) =>
  `${l.from.node}.${l.from.port} → ${l.to.node}.${l.to.port}`;
