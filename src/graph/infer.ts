/**
 * Inference over a graph document: shapes on every port, problems in words on
 * nodes and links, parameter and MAC counts, and the memory chains with their
 * strategy. Pure and fast enough to rerun on every edit.
 */
import {
  type Catalogue,
  type Macs,
  type MemoryLayout,
  type NodeKind,
  type Shape,
  type WeightSpec,
  describeShape,
  formatGrid,
  paramCount,
} from './node-kind.ts';

import type { GraphDoc, GraphIssue, LinkDoc, NodeDoc } from './types.ts';
import { GRAPH_LIMITS, clipMessage } from './limits.ts';
import { validateDoc } from './validate.ts';

export type Scope = 'encoder' | 'decoder';

export interface NodeInfo {
  id: string;
  index: number;
  kind?: NodeKind;
  inputs: Record<string, Shape | undefined>;
  outputs: Record<string, Shape>;
  weights: WeightSpec[];
  params: number;
  macs: Macs;
  scope: Scope;
  issues: GraphIssue[];
}

/** Memory-attention units joined by memory links; a unit without any is on no chain. */
export interface MemoryChain {
  /** ISTS: stays in one stage of a hierarchical network; STS: crosses stages or runs through a sequential one. */
  strategy: 'ISTS' | 'STS';
  scope: 'encoder' | 'decoder' | 'both';
  layout: MemoryLayout | 'mixed';
  /** Memory-attention units in the order memory flows through them. */
  units: string[];
  /** Memory merging / expanding nodes on the chain. */
  resamplers: string[];
  /** Indices of the memory links of the chain. */
  links: number[];
}

export interface PortShape {
  node: string;
  /** NHWC (or NDHWC) with batch 1. */
  shape: number[];
}

export interface Analysis {
  nodes: Map<string, NodeInfo>;
  /** Topological order of the nodes that could be ordered. */
  order: string[];
  issues: GraphIssue[];
  linkIssues: Map<number, GraphIssue[]>;
  params: number;
  macs: Macs;
  chains: MemoryChain[];
  inputs: PortShape[];
  outputs: PortShape[];
}

const linkName = (l: LinkDoc) => `${l.from.node}.${l.from.port} → ${l.to.node}.${l.to.port}`;

function socketOf(kind: NodeKind | undefined, port: string, dir: 'inputs' | 'outputs') {
  return kind?.[dir].find((p) => p.name === port)?.socket;
}

/**
 * Analyses are memoised per document and catalogue: documents are immutable
 * (every edit makes a new one), so the plan, the layout and the conversions
 * share one analysis of the same document.
 */
const memo = new WeakMap<GraphDoc, WeakMap<Catalogue, Analysis>>();

/** The analysis of `doc` with the node kinds of `catalogue`. Do not change the result. */
export function analyzeGraph(doc: GraphDoc, catalogue: Catalogue): Analysis {
  let byCatalogue = memo.get(doc);
  if (!byCatalogue) memo.set(doc, (byCatalogue = new WeakMap()));
  let a = byCatalogue.get(catalogue);
  if (!a) byCatalogue.set(catalogue, (a = analyze(doc, catalogue)));
  return a;
}

function analyze(doc: GraphDoc, catalogue: Catalogue): Analysis {
  const issues: GraphIssue[] = validateDoc(doc, false, catalogue).filter(
    (i) => i.severity === 'error' || i.severity === 'warning',
  );
  const linkIssues = new Map<number, GraphIssue[]>();
  const pushTo = <K, V>(m: Map<K, V[]>, k: K, v: V) => {
    const list = m.get(k);
    if (list) list.push(v);
    else m.set(k, [v]);
  };
  const addLinkIssue = (i: number, message: string) => {
    const issue: GraphIssue = { path: `$.links[${i}]`, link: i, severity: 'error', message };
    issues.push(issue);
    pushTo(linkIssues, i, issue);
  };
  const nodeIssues = new Map<string, GraphIssue[]>();
  for (const iss of issues) {
    if (iss.link !== undefined) pushTo(linkIssues, iss.link, iss);
    if (iss.node !== undefined) pushTo(nodeIssues, iss.node, iss);
  }

  // Nodes we can compute: first occurrence of each id, with a known kind.
  const nodes = new Map<string, NodeInfo>();
  const docNode = new Map<string, NodeDoc>();
  doc.nodes.forEach((n, index) => {
    if (nodes.has(n.id)) return;
    const kind = catalogue.get(n.type);
    docNode.set(n.id, n);
    nodes.set(n.id, {
      id: n.id,
      index,
      kind,
      inputs: {},
      outputs: {},
      weights: [],
      params: 0,
      macs: { linearConv: 0, attention: 0 },
      scope: 'encoder',
      issues: nodeIssues.get(n.id) ?? [],
    });
  });

  // Links usable for computation: both ends present, ports exist, sockets agree, input not yet fed.
  // A node of an unknown type is opaque: its links count (order, "connected"), its outputs have no shape.
  const usable: { link: LinkDoc; index: number }[] = [];
  // node id → input port → the link feeding it (nested maps: no string keys to build per lookup)
  const feeds = new Map<string, Map<string, { link: LinkDoc; index: number }>>();
  doc.links.forEach((link, i) => {
    if (linkIssues.has(i)) return;
    const a = nodes.get(link.from.node);
    const b = nodes.get(link.to.node);
    if (!a || !b) return;
    const sa = socketOf(a.kind, link.from.port, 'outputs');
    const sb = socketOf(b.kind, link.to.port, 'inputs');
    if (a.kind && b.kind && sa !== sb) {
      addLinkIssue(i, `link ${linkName(link)}: a ${sa} port cannot connect to a ${sb} port`);
      return;
    }
    let ports = feeds.get(link.to.node);
    if (!ports) feeds.set(link.to.node, (ports = new Map()));
    if (ports.has(link.to.port)) return;
    const u = { link, index: i };
    ports.set(link.to.port, u);
    usable.push(u);
  });

  // Topological order (Kahn); whatever is left sits on or after a cycle.
  const outLinks = new Map<string, { link: LinkDoc; index: number }[]>();
  const indeg = new Map<string, number>();
  for (const id of nodes.keys()) indeg.set(id, 0);
  for (const u of usable) {
    pushTo(outLinks, u.link.from.node, u);
    indeg.set(u.link.to.node, (indeg.get(u.link.to.node) ?? 0) + 1);
  }
  const queue = [...nodes.keys()].filter((id) => indeg.get(id) === 0);
  const order: string[] = [];
  for (let head = 0; head < queue.length; head++) {
    const id = queue[head];
    order.push(id);
    for (const u of outLinks.get(id) ?? []) {
      const d = (indeg.get(u.link.to.node) ?? 0) - 1;
      indeg.set(u.link.to.node, d);
      if (d === 0) queue.push(u.link.to.node);
    }
  }
  if (order.length < nodes.size) reportCycles(nodes, outLinks, new Set(order), issues);

  // Shapes, problems and counts in order.
  for (const id of order) {
    const info = nodes.get(id) as NodeInfo;
    const kind = info.kind;
    if (!kind) continue;
    const node = docNode.get(id) as NodeDoc;
    const fedBy = feeds.get(id);
    for (const port of kind.inputs) {
      const u = fedBy?.get(port.name);
      const from = u && nodes.get(u.link.from.node);
      if (from && !from.kind) {
        const issue: GraphIssue = {
          path: `$.nodes[${info.index}]`,
          node: id,
          severity: 'warning',
          message: `node '${id}' (${kind.title}): input '${port.name}' shape unknown (from unknown node type '${docNode.get(from.id)?.type}')`,
        };
        issues.push(issue);
        info.issues.push(issue);
      } else if (u) info.inputs[port.name] = from?.outputs[u.link.from.port];
      else if (!port.optional) {
        const issue: GraphIssue = {
          path: `$.nodes[${info.index}]`,
          node: id,
          severity: 'error',
          message: `node '${id}' (${kind.title}): required input '${port.name}' is not connected`,
        };
        issues.push(issue);
        info.issues.push(issue);
      }
    }
    if (info.issues.some((i) => i.severity === 'error' && i.path.includes('.params'))) continue; // bad params: no shapes to trust
    const r = kind.infer({ params: node.params, inputs: info.inputs });
    info.outputs = r.outputs;
    info.weights = r.weights;
    info.params = paramCount(r.weights);
    info.macs = r.macs;
    for (const p of r.problems) {
      // A problem at a port is one issue, located on the node and on the link feeding the port.
      const u = p.port ? fedBy?.get(p.port) : undefined;
      const issue: GraphIssue = {
        path: `$.nodes[${info.index}]`,
        node: id,
        ...(u ? { link: u.index } : {}),
        severity: 'error',
        message: `node '${id}' (${kind.title}): ${p.message}`,
      };
      issues.push(issue);
      info.issues.push(issue);
      if (u) pushTo(linkIssues, u.index, issue);
    }
  }

  markDecoder(nodes, outLinks);
  const chains = findChains(nodes, usable, order);

  let params = 0;
  const macs = { linearConv: 0, attention: 0 };
  for (const info of nodes.values()) {
    params += info.params;
    macs.linearConv += info.macs.linearConv;
    macs.attention += info.macs.attention;
  }
  const inputs: PortShape[] = [];
  const outputs: PortShape[] = [];
  for (const id of order) {
    const info = nodes.get(id) as NodeInfo;
    if (info.kind?.role === 'input' && info.outputs.out?.kind === 'image') {
      inputs.push({ node: id, shape: [1, ...info.outputs.out.spatial, info.outputs.out.channels] });
    }
    const logits = info.inputs.logits;
    if (info.kind?.role === 'output' && logits?.kind === 'image') {
      outputs.push({ node: id, shape: [1, ...logits.spatial, logits.channels] });
    }
  }
  if (![...nodes.values()].some((n) => n.kind?.role === 'output')) {
    issues.push({
      path: '$.nodes',
      severity: 'warning',
      message: 'the graph has no Segmentation output node, so it cannot be trained yet',
    });
  }
  // Messages quote ids and values from the file: keep each one readable. (Shared objects: this clips them on nodes and links too.)
  for (const issue of issues) issue.message = clipMessage(issue.message);
  return { nodes, order, issues, linkIssues, params, macs, chains, inputs, outputs };
}

/**
 * One issue per cycle among the nodes Kahn's order could not reach, naming
 * its first few nodes and its length; every node on it carries that issue.
 * Linear in nodes and links: nodes that only lead out of the remainder are
 * peeled off first, so from any node left a walk along remaining links must
 * close a cycle or reach a walk already made.
 */
function reportCycles(
  nodes: Map<string, NodeInfo>,
  outLinks: Map<string, { link: LinkDoc }[]>,
  done: Set<string>,
  issues: GraphIssue[],
) {
  const left = new Set([...nodes.keys()].filter((id) => !done.has(id)));
  const next = (id: string) =>
    (outLinks.get(id) ?? []).map((u) => u.link.to.node).filter((t) => left.has(t));
  const inLinks = new Map<string, string[]>();
  const outdeg = new Map<string, number>();
  for (const id of left) {
    const succ = next(id);
    outdeg.set(id, succ.length);
    for (const t of succ) {
      const list = inLinks.get(t);
      if (list) list.push(id);
      else inLinks.set(t, [id]);
    }
  }
  const sinks = [...left].filter((id) => outdeg.get(id) === 0);
  while (sinks.length) {
    const id = sinks.pop() as string;
    left.delete(id);
    for (const p of inLinks.get(id) ?? []) {
      const d = (outdeg.get(p) as number) - 1;
      outdeg.set(p, d);
      if (d === 0) sinks.push(p);
    }
  }
  const walked = new Set<string>();
  for (const start of left) {
    if (walked.has(start)) continue;
    const path: string[] = [];
    const at = new Map<string, number>();
    let cur = start;
    while (!walked.has(cur)) {
      walked.add(cur);
      at.set(cur, path.length);
      path.push(cur);
      cur = next(cur)[0]; // every node left has a successor left
    }
    const from = at.get(cur);
    if (from === undefined) continue; // reached an earlier walk: no new cycle
    const cycle = path.slice(from);
    const shown = cycle.slice(0, GRAPH_LIMITS.cycleIdsShown);
    const text =
      cycle.length > shown.length ? `${shown.join(' → ')} → …` : [...cycle, cycle[0]].join(' → ');
    const first = nodes.get(cycle[0]) as NodeInfo;
    const issue: GraphIssue = {
      path: `$.nodes[${first.index}]`,
      node: first.id,
      severity: 'error',
      message: `${cycle.length.toLocaleString('en-US')} nodes form a cycle (${text}): a network must flow one way`,
    };
    issues.push(issue);
    for (const id of cycle) (nodes.get(id) as NodeInfo).issues.push(issue);
  }
}

/** Everything downstream of patch expanding (token flow) is decoder. */
function markDecoder(nodes: Map<string, NodeInfo>, outLinks: Map<string, { link: LinkDoc }[]>) {
  const stack = [...nodes.values()].filter((n) => n.kind?.role === 'upsample').map((n) => n.id);
  while (stack.length) {
    const id = stack.pop() as string;
    const info = nodes.get(id) as NodeInfo;
    if (info.scope === 'decoder' && info.kind?.role !== 'upsample') continue;
    info.scope = 'decoder';
    for (const u of outLinks.get(id) ?? []) {
      if (u.link.from.port.startsWith('mem')) continue;
      const next = nodes.get(u.link.to.node);
      if (next && next.scope !== 'decoder') stack.push(next.id);
    }
  }
}

const stageKey = (n: NodeInfo) => {
  const t = n.inputs.in;
  return `${n.scope}:${t && t.kind === 'tokens' ? formatGrid(t.grid) : '?'}`;
};

function findChains(
  nodes: Map<string, NodeInfo>,
  usable: { link: LinkDoc; index: number }[],
  order: string[],
): MemoryChain[] {
  const onChain = (n?: NodeInfo) =>
    n?.kind?.role === 'memory-unit' || n?.kind?.role === 'memory-resampling';
  const parent = new Map<string, string>();
  /** The root of x's set; the path walked is pointed at the root (a loop: chains can be 10,000 units long). */
  const find = (x: string): string => {
    let root = x;
    for (let p = parent.get(root); p !== undefined && p !== root; p = parent.get(root)) root = p;
    for (let y = x; y !== root;) {
      const p = parent.get(y) as string;
      parent.set(y, root);
      y = p;
    }
    return root;
  };
  for (const n of nodes.values()) if (onChain(n)) parent.set(n.id, n.id);
  const memLinks = usable.filter(
    (u) =>
      onChain(nodes.get(u.link.from.node)) &&
      onChain(nodes.get(u.link.to.node)) &&
      u.link.to.port === 'memIn',
  );
  for (const u of memLinks) parent.set(find(u.link.from.node), find(u.link.to.node));

  const attentionGrids = new Set(
    [...nodes.values()]
      .filter(
        (n) =>
          (n.kind?.role === 'attention' || n.kind?.role === 'memory-unit') && n.scope === 'encoder',
      )
      .map(stageKey),
  );
  const sequential = attentionGrids.size <= 1;
  const rank = new Map(order.map((id, i) => [id, i]));
  const groups = new Map<string, NodeInfo[]>();
  for (const id of parent.keys()) {
    const root = find(id);
    const g = groups.get(root);
    if (g) g.push(nodes.get(id) as NodeInfo);
    else groups.set(root, [nodes.get(id) as NodeInfo]);
  }
  const chains: MemoryChain[] = [];
  for (const members of groups.values()) {
    members.sort((a, b) => (rank.get(a.id) ?? 1e9) - (rank.get(b.id) ?? 1e9));
    const units = members.filter((m) => m.kind?.role === 'memory-unit');
    if (units.length === 0) continue;
    const resamplers = members.filter((m) => m.kind?.role === 'memory-resampling').map((m) => m.id);
    const stages = new Set(units.map(stageKey));
    const scopes = new Set(units.map((u) => u.scope));
    const layouts = new Set(
      units.map((u) => (u.outputs.memOut?.kind === 'memory' ? u.outputs.memOut.layout : 'window')),
    );
    const ids = new Set(members.map((m) => m.id));
    const links = memLinks.filter((u) => ids.has(u.link.from.node)).map((u) => u.index);
    if (!links.length) continue; // a lone unit (no memory in or out) is on no chain
    chains.push({
      strategy: resamplers.length > 0 || stages.size > 1 || sequential ? 'STS' : 'ISTS',
      scope: scopes.size > 1 ? 'both' : (units[0].scope as Scope),
      layout: layouts.size > 1 ? 'mixed' : ([...layouts][0] as MemoryLayout),
      units: units.map((u) => u.id),
      resamplers,
      links,
    });
  }
  chains.sort((a, b) => (rank.get(a.units[0]) ?? 0) - (rank.get(b.units[0]) ?? 0));
  return chains;
}

export { describeShape };
