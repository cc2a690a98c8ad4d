/**
 * Migrations between graph format versions. `migrations[v]` turns a version-v
 * document into version v+1. Loading runs every step from the file's version
 * up to GRAPH_VERSION.
 */
import { GRAPH_FORMAT, GRAPH_VERSION } from './types.ts';

type Json = Record<string, unknown>;

/**
 * Version 0 (the pre-release prototype): nodes as {id, kind, props, x, y} and
 * `edges` as {source, sourceOutput, target, targetInput}.
 */
function v0ToV1(doc: Json): Json {
  const nodes = (doc.nodes as Json[]).map((n) => ({
    id: n.id,
    type: n.kind,
    params: n.props ?? {},
    position: [n.x ?? 0, n.y ?? 0],
    ...(n.label !== undefined ? { label: n.label } : {}),
  }));
  const links = ((doc.edges as Json[]) ?? []).map((e) => ({
    from: { node: e.source, port: e.sourceOutput },
    to: { node: e.target, port: e.targetInput },
  }));
  const metadata = doc.title !== undefined ? { title: doc.title } : undefined;
  return { format: GRAPH_FORMAT, version: 1, ...(metadata ? { metadata } : {}), nodes, links };
}

export const migrations: Record<number, (doc: Json) => Json> = { 0: v0ToV1 };

export function migrate(doc: Json, from: number): { doc: Json } | { error: string } {
  let cur = doc;
  for (let v = from; v < GRAPH_VERSION; v++) {
    const step = migrations[v];
    if (!step) return { error: `no migration from format version ${v} to ${v + 1}` };
    try {
      cur = step(cur);
    } catch (e) {
      return { error: `migrating from format version ${v} failed: ${(e as Error).message}` };
    }
  }
  return { doc: cur };
}
