/**
 * Writing a graph file. Deterministic: the same document gives the same bytes
 * (fixed key order for known objects, sorted keys elsewhere, 2-space JSON,
 * small arrays on one line, a final newline).
 */
import type { GraphDoc } from './types.ts';

const ORDER: Record<string, string[]> = {
  top: ['format', 'version', 'metadata', 'nodes', 'links'],
  node: ['id', 'type', 'label', 'position', 'params'],
  link: ['from', 'to'],
  ref: ['node', 'port'],
};

function ordered(obj: Record<string, unknown>, first: string[]): [string, unknown][] {
  const rest = Object.keys(obj)
    .filter((k) => !first.includes(k))
    .sort();
  return [...first.filter((k) => k in obj), ...rest]
    .map((k): [string, unknown] => [k, obj[k]])
    .filter(([, v]) => v !== undefined);
}

function inline(v: unknown): boolean {
  return (
    Array.isArray(v) &&
    v.length <= 16 &&
    v.every((x) => typeof x === 'number' || typeof x === 'string' || typeof x === 'boolean')
  );
}

function write(v: unknown, indent: string, order: string[] | undefined, role: string): string {
  if (v === null || typeof v !== 'object') return JSON.stringify(v);
  const inner = indent + '  ';
  if (Array.isArray(v)) {
    if (v.length === 0) return '[]';
    if (inline(v)) return `[${v.map((x) => JSON.stringify(x)).join(', ')}]`;
    const childRole = role === 'nodes' ? 'node' : role === 'links' ? 'link' : '';
    return `[\n${v.map((x) => inner + write(x, inner, ORDER[childRole], childRole)).join(',\n')}\n${indent}]`;
  }
  const entries = ordered(v as Record<string, unknown>, order ?? []);
  if (entries.length === 0) return '{}';
  if (role === 'link' || role === 'ref') {
    // Links are short: one line each keeps files readable and diffs small.
    return `{ ${entries.map(([k, x]) => `${JSON.stringify(k)}: ${write(x, '', ORDER.ref, 'ref')}`).join(', ')} }`;
  }
  return `{\n${entries
    .map(
      ([k, x]) =>
        `${inner}${JSON.stringify(k)}: ${write(x, inner, undefined, role === 'top' ? k : '')}`,
    )
    .join(',\n')}\n${indent}}`;
}

export function saveGraph(doc: GraphDoc): string {
  return write(doc, '', ORDER.top, 'top') + '\n';
}
