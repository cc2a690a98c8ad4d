/** Semantic checks of a graph document against the catalogue: kinds, params, ports, ids. */
import type { Catalogue, NodeKind, ParamSpec } from './node-kind.ts';
import { jsonPath } from './schema.ts';
import type { GraphDoc, GraphIssue, NodeDoc, ParamValue } from './types.ts';

const kindName = (node: NodeDoc, kind?: NodeKind) =>
  `node '${node.id}'${kind ? ` (${kind.title})` : ''}`;

function checkValue(spec: ParamSpec, v: ParamValue): string | undefined {
  switch (spec.type) {
    case 'int':
    case 'float': {
      if (typeof v !== 'number' || !Number.isFinite(v))
        return `must be a number, got ${JSON.stringify(v)}`;
      if (spec.type === 'int' && !Number.isInteger(v)) return `must be a whole number, got ${v}`;
      if (spec.min !== undefined && v < spec.min) return `is ${v}, below the minimum ${spec.min}`;
      if (spec.max !== undefined && v > spec.max) return `is ${v}, above the maximum ${spec.max}`;
      return undefined;
    }
    case 'bool':
      return typeof v === 'boolean' ? undefined : `must be true or false, got ${JSON.stringify(v)}`;
    case 'enum':
      return typeof v === 'string' && spec.options?.includes(v)
        ? undefined
        : `must be one of ${spec.options?.map((o) => `'${o}'`).join(', ')}, got ${JSON.stringify(v)}`;
    case 'string':
      return typeof v === 'string' ? undefined : `must be text, got ${JSON.stringify(v)}`;
    case 'string[]':
      return Array.isArray(v) && v.every((s) => typeof s === 'string')
        ? undefined
        : `must be a list of names, got ${JSON.stringify(v)}`;
  }
}

/**
 * Problems with one node's parameters. With `fill`, missing parameters are
 * set to their defaults (still reported), so the rest of the graph can be computed.
 */
export function validateParams(
  node: NodeDoc,
  index: number,
  kind: NodeKind,
  fill = false,
): GraphIssue[] {
  const issues: GraphIssue[] = [];
  for (const spec of kind.params) {
    const v = node.params[spec.name];
    const path = () => jsonPath(['nodes', index, 'params', spec.name]);
    if (v === undefined) {
      const message = `${kindName(node, kind)}: parameter '${spec.name}' is missing${fill ? `; using the default ${JSON.stringify(spec.default)}` : ''}`;
      issues.push({ path: path(), node: node.id, severity: 'error', message });
      if (fill) node.params[spec.name] = structuredClone(spec.default);
      continue;
    }
    const why = checkValue(spec, v);
    if (why)
      issues.push({
        path: path(),
        node: node.id,
        severity: 'error',
        message: `${kindName(node, kind)}: parameter '${spec.name}' ${why}`,
      });
  }
  for (const name in node.params) {
    if (!kind.params.some((p) => p.name === name)) {
      issues.push({
        path: jsonPath(['nodes', index, 'params', name]),
        node: node.id,
        severity: 'warning',
        message: `${kindName(node, kind)}: unknown parameter '${name}' is kept but not used`,
      });
    }
  }
  return issues;
}

const ENDS = ['from', 'to'] as const;

/** Checks `doc` against the kinds of `catalogue` ; `fill` adds missing parameters' defaults. */
export function validateDoc(doc: GraphDoc, fill = false, catalogue: Catalogue): GraphIssue[] {
  const issues: GraphIssue[] = [];
  const first = new Map<string, number>();
  doc.nodes.forEach((node, i) => {
    const path = `$.nodes[${i}]`;
    const prev = first.get(node.id);
    if (prev !== undefined) {
      issues.push({
        path: `${path}.id`,
        node: node.id,
        severity: 'error',
        message: `duplicate node id '${node.id}': also used by ${jsonPath(['nodes', prev])}; ids must be unique (this one is kept in the file but not computed)`,
      });
      return;
    }
    first.set(node.id, i);
    const kind = catalogue.get(node.type);
    if (!kind) {
      issues.push({
        path: `${path}.type`,
        node: node.id,
        severity: 'error',
        message: `node '${node.id}' has unknown node type '${node.type}': it is kept and written back unchanged, but not computed`,
      });
      return;
    }
    issues.push(...validateParams(node, i, kind, fill));
  });
  const byId = new Map(doc.nodes.map((n) => [n.id, n]));
  const fed = new Map<string, number>();
  doc.links.forEach((link, i) => {
    const path = `$.links[${i}]`;
    const what = () => `link ${link.from.node}.${link.from.port} → ${link.to.node}.${link.to.port}`;
    for (const end of ENDS) {
      const ref = link[end];
      const dir = end === 'from' ? 'outputs' : 'inputs';
      const node = byId.get(ref.node);
      if (!node) {
        issues.push({
          path: `${path}.${end}.node`,
          link: i,
          severity: 'error',
          message: `${what()}: node '${ref.node}' does not exist`,
        });
        continue;
      }
      const kind = catalogue.get(node.type);
      if (!kind) continue; // unknown kinds: ports cannot be checked, the link is kept as is
      if (!kind[dir].some((p) => p.name === ref.port)) {
        const names = kind[dir].map((p) => `'${p.name}'`).join(', ') || 'none';
        issues.push({
          path: `${path}.${end}.port`,
          link: i,
          severity: 'error',
          message: `${what()}: ${kindName(node, kind)} has no ${dir === 'outputs' ? 'output' : 'input'} port '${ref.port}' (it has ${names})`,
        });
      }
    }
    const key = `${link.to.node}\u0000${link.to.port}`;
    const prev = fed.get(key);
    if (prev !== undefined) {
      issues.push({
        path,
        link: i,
        severity: 'error',
        message: `${what()}: input '${link.to.port}' of '${link.to.node}' is already fed by ${jsonPath(['links', prev])}; an input takes one link`,
      });
    } else fed.set(key, i);
  });
  return issues;
}
