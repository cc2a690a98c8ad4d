/**
 * Reading a graph file: parse, check the format and version, migrate, check
 * structure entry by entry, then semantics. Whatever can be loaded is loaded;
 * every problem comes back with its JSON path and a sentence.
 */
import { checkDocLimits, checkTextLength, limitIssues } from './limits.ts';
import { migrate } from './migrate.ts';
import {
  describeZodIssues,
  jsonPath,
  looseLinkSchema,
  looseNodeSchema,
  topSchema,
} from './schema.ts';
import {
  GRAPH_FORMAT,
  GRAPH_VERSION,
  type GraphDoc,
  type GraphIssue,
  type LinkDoc,
  type NodeDoc,
} from './types.ts';
import { validateDoc } from './validate.ts';
import type { Catalogue } from './node-kind.ts';

export type LoadResult =
  | { ok: true; graph: GraphDoc; issues: GraphIssue[]; migratedFrom?: number }
  | { ok: false; issues: GraphIssue[] };

const fatal = (message: string, path = '$'): LoadResult => ({
  ok: false,
  issues: [{ path, message, severity: 'error' }],
});

function parseJson(text: string): { value: unknown } | { error: string } {
  try {
    return { value: JSON.parse(text) };
  } catch (e) {
    const msg = (e as Error).message;
    const pos = /position (\d+)/.exec(msg);
    if (pos) {
      const before = text.slice(0, Number(pos[1]));
      const line = before.split('\n').length;
      const col = Number(pos[1]) - before.lastIndexOf('\n');
      return { error: `not valid JSON at line ${line}, column ${col}: ${msg}` };
    }
    return { error: `not valid JSON: ${msg}` };
  }
}

const isObject = (v: unknown): v is Record<string, unknown> =>
  typeof v === 'object' && v !== null && !Array.isArray(v);

/**
 * Load a graph from file text (or an already parsed value). Files beyond
 * GRAPH_LIMITS are refused before the work they would cost; at most
 * `maxIssues` issues are listed, each message at most `maxMessageLength` long.
 */
export function loadGraph(input: string | unknown, catalogue: Catalogue): LoadResult {
  const r = load(input, catalogue);
  return { ...r, issues: limitIssues(r.issues) };
}

function load(input: string | unknown, catalogue: Catalogue): LoadResult {
  let value: unknown = input;
  if (typeof input === 'string') {
    const tooLong = checkTextLength(input);
    if (tooLong) return { ok: false, issues: [tooLong] };
    const parsed = parseJson(input);
    if ('error' in parsed) return fatal(parsed.error);
    value = parsed.value;
  }
  if (!isObject(value)) return fatal('a graph file must hold a JSON object');
  const beyond = checkDocLimits(value);
  if (beyond) return { ok: false, issues: [beyond] };
  if (value.format !== GRAPH_FORMAT) {
    return fatal(
      value.format === undefined
        ? `not a mam-studio graph: the 'format' field is missing (expected '${GRAPH_FORMAT}')`
        : `not a mam-studio graph: format is ${JSON.stringify(value.format)}, expected '${GRAPH_FORMAT}'`,
      '$.format',
    );
  }
  const version = value.version;
  if (typeof version !== 'number' || !Number.isInteger(version) || version < 0) {
    return fatal(
      `the format version must be a whole number, got ${JSON.stringify(version)}`,
      '$.version',
    );
  }
  if (version > GRAPH_VERSION) {
    return fatal(
      `this file was written in graph format version ${version}, newer than this mam-studio reads (up to ${GRAPH_VERSION}): update mam-studio to open it`,
      '$.version',
    );
  }
  let migratedFrom: number | undefined;
  if (version < GRAPH_VERSION) {
    const m = migrate(value, version);
    if ('error' in m) return fatal(m.error, '$.version');
    value = m.doc;
    migratedFrom = version;
  }
  const top = topSchema.safeParse(value);
  if (!top.success) {
    return {
      ok: false,
      issues: describeZodIssues(top.error, []).map((i) => ({ ...i, severity: 'error' })),
    };
  }
  const raw = value as Record<string, unknown>;
  const issues: GraphIssue[] = [];
  const nodes: NodeDoc[] = [];
  (raw.nodes as unknown[]).forEach((n, i) => {
    const r = looseNodeSchema.safeParse(n);
    if (r.success) nodes.push(structuredClone(n) as NodeDoc);
    else {
      for (const iss of describeZodIssues(r.error, ['nodes', i])) {
        issues.push({
          ...iss,
          severity: 'error',
          message: `node ${jsonPath(['nodes', i])} could not be read and was left out: ${iss.message}`,
        });
      }
    }
  });
  const links: LinkDoc[] = [];
  (raw.links as unknown[]).forEach((l, i) => {
    const r = looseLinkSchema.safeParse(l);
    if (r.success) links.push(structuredClone(l) as LinkDoc);
    else {
      for (const iss of describeZodIssues(r.error, ['links', i])) {
        issues.push({
          ...iss,
          severity: 'error',
          message: `link ${jsonPath(['links', i])} could not be read and was left out: ${iss.message}`,
        });
      }
    }
  });
  // Everything but the nodes and links (already copied above) is kept as it was, as a copy.
  const { nodes: _n, links: _l, ...rest } = raw;
  const graph: GraphDoc = {
    ...(structuredClone(rest) as unknown as GraphDoc),
    format: GRAPH_FORMAT,
    version: GRAPH_VERSION,
    nodes,
    links,
  };
  if (graph.metadata === undefined) delete graph.metadata;
  for (const issue of validateDoc(graph, true, catalogue)) issues.push(issue);
  return { ok: true, graph, issues, ...(migratedFrom !== undefined ? { migratedFrom } : {}) };
}
