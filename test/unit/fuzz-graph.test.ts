// Fuzzing graph files: mutated presets and hand-made graphs, as text and as JSON. Every input must end in
// a located refusal or a loaded graph whose analysis and save work, never an exception or a hang.
import { readFileSync, readdirSync } from 'node:fs';
import fc from 'fast-check';
import { describe, expect, it } from 'vitest';
import { analyzeGraph } from '../../src/graph/infer.ts';
import { GRAPH_LIMITS } from '../../src/graph/limits.ts';
import { loadGraph } from '../../src/graph/load.ts';
import { saveGraph } from '../../src/graph/save.ts';
import type { GraphIssue } from '../../src/graph/types.ts';
import {
  type JsonEdit,
  Outcomes,
  fuzzParams,
  fuzzRuns,
  guarded,
  named,
  parentOf,
  pickPath,
  seedsArb,
  setOrDeleteArb,
} from '../helpers/fuzz.ts';
import { mamChain } from '../helpers/mam-chain.ts';
import { tinyGraph } from '../helpers/tiny-graph.ts';
import { catalogue } from '../../nodes/index.ts';

const RUNS = fuzzRuns('MAM_FUZZ_GRAPHS', 1000);

const BASES: string[] = [
  ...readdirSync('presets')
    .filter((f) => f.endsWith('.json'))
    .sort()
    .map((f) => readFileSync(`presets/${f}`, 'utf8')),
  readFileSync('test/fixtures/graph-v0.json', 'utf8'),
  saveGraph(mamChain(4).doc),
  saveGraph(tinyGraph()),
];

/** A deep nest is written into the text after JSON.stringify (which itself recurses). */
const DEEP = '\u0000deep:';

type Mutation = JsonEdit;

const nodesOf = (doc: Record<string, unknown>) =>
  (Array.isArray(doc.nodes) ? doc.nodes : []).filter(
    (n): n is Record<string, unknown> => typeof n === 'object' && n !== null && !Array.isArray(n),
  );
const linksOf = (doc: Record<string, unknown>) =>
  (Array.isArray(doc.links) ? doc.links : []) as Record<string, unknown>[];

const commonArb: fc.Arbitrary<Mutation> = fc.oneof(
  setOrDeleteArb(3),
  // A deep nest somewhere (below, at and far above the depth limit).
  fc.tuple(seedsArb, fc.integer({ min: 20, max: 5000 })).map(([seeds, depth]) =>
    named(`nest ${JSON.stringify(seeds)} ${depth} deep`, (doc) => {
      const at = parentOf(doc, pickPath(doc, seeds));
      if (at) at.parent[at.key] = `${DEEP}${depth}`;
      else doc.extra = `${DEEP}${depth}`;
    }),
  ),
  // A link from a later node back to an earlier one: a cycle (or a bad port).
  fc.tuple(fc.nat(), fc.nat()).map(([a, b]) =>
    named(`link back ${a} ${b}`, (doc) => {
      const nodes = nodesOf(doc);
      if (nodes.length < 2) return;
      const [i, j] = [a % nodes.length, b % nodes.length].sort((x, y) => x - y);
      linksOf(doc).push({
        from: { node: nodes[j].id, port: 'out' },
        to: { node: nodes[i].id, port: 'in' },
      });
    }),
  ),
  // Unknown node type, duplicate id, link to a missing node.
  fc.tuple(fc.nat(), fc.constantFrom('type', 'dup', 'ghost')).map(([n, what]) =>
    named(`${what} ${n}`, (doc) => {
      const nodes = nodesOf(doc);
      if (!nodes.length) return;
      const node = nodes[n % nodes.length];
      if (what === 'type') node.type = 'future-kind';
      else if (what === 'dup') (doc.nodes as unknown[]).push(structuredClone(node));
      else
        linksOf(doc).push({
          from: { node: 'ghost', port: 'out' },
          to: { node: node.id, port: 'in' },
        });
    }),
  ),
  // A parameter set to something odd.
  fc
    .tuple(
      fc.nat(),
      fc.nat(),
      fc.constantFrom(-1, 0, 1e308, -1e308, 0.5, 2 ** 53, '', 'x', true, null, [], {}),
    )
    .map(([n, p, v]) =>
      named(`param ${n} ${p} = ${JSON.stringify(v)}`, (doc) => {
        const nodes = nodesOf(doc);
        if (!nodes.length) return;
        const params = nodes[n % nodes.length].params as Record<string, unknown> | undefined;
        if (!params || typeof params !== 'object') return;
        const keys = Object.keys(params);
        if (keys.length) params[keys[p % keys.length]] = v;
      }),
    ),
  // Long strings: an id, a label, a type.
  fc
    .tuple(
      fc.nat(),
      fc.constantFrom('id', 'label', 'type'),
      fc.integer({ min: 1000, max: 200_000 }),
    )
    .map(([n, field, len]) =>
      named(`${field} of node ${n} ${len} long`, (doc) => {
        const nodes = nodesOf(doc);
        if (nodes.length) nodes[n % nodes.length][field] = 'x'.repeat(len);
      }),
    ),
);

/** Many nodes or links, around and past the limits: costly, so rarer. */
const manyArb: fc.Arbitrary<Mutation> = fc
  .tuple(fc.constantFrom('nodes', 'links'), fc.constantFrom(0.99, 1.01, 3))
  .map(([key, f]) =>
    named(`${key} × ${f} of the limit`, (doc) => {
      const max = key === 'nodes' ? GRAPH_LIMITS.maxNodes : GRAPH_LIMITS.maxLinks;
      const list = key === 'nodes' ? nodesOf(doc) : linksOf(doc);
      // The entry copied must be small: other mutations may have made it megabytes long.
      const proto = JSON.stringify(list[0] ?? 0).length <= 1000 ? (list[0] ?? 0) : 0;
      const n = Math.round(max * f);
      doc[key] = Array.from({ length: n }, (_, i) =>
        proto && typeof proto === 'object' && 'id' in proto
          ? { ...proto, id: `m${i}` }
          : structuredClone(proto),
      );
    }),
  );

const mutationArb = fc.oneof(
  { weight: 12, arbitrary: commonArb },
  { weight: 1, arbitrary: manyArb },
);

/** Text-level damage after serialising. */
const textArb = fc.oneof(
  { weight: 6, arbitrary: fc.constant((t: string) => t) },
  { weight: 1, arbitrary: fc.nat().map((p) => (t: string) => t.slice(0, p % (t.length + 1))) },
  {
    weight: 1,
    arbitrary: fc
      .tuple(
        fc.nat(),
        fc.constantFrom('{', '}', '[', ']', '"', ',', ':', '0', '-', 'e', '\\', ' ', '\u00ff'),
      )
      .map(([p, c]) => (t: string) => {
        const i = p % Math.max(1, t.length);
        return t.slice(0, i) + c + t.slice(i + 1);
      }),
  },
);

const caseArb = fc.record({
  base: fc.constantFrom(...BASES.keys()),
  mutations: fc.array(mutationArb, { minLength: 0, maxLength: 4 }),
  text: textArb,
});

function render(c: { base: number; mutations: Mutation[]; text: (t: string) => string }): string {
  const doc = JSON.parse(BASES[c.base]) as Record<string, unknown>;
  for (const m of c.mutations) m(doc);
  // One nest per case: copies of it (a mutation may clone the entry holding it) become plain values.
  let nests = 0;
  const json = JSON.stringify(doc).replace(/"\\u0000deep:(\d+)"/g, (_, d: string) => {
    if (nests++) return '1';
    const n = Number(d);
    return '{"a":'.repeat(n) + '1' + '}'.repeat(n);
  });
  return c.text(json);
}

function expectLocated(issues: readonly GraphIssue[], where: string) {
  for (const i of issues) {
    expect(i.path, where).toMatch(/^\$/);
    expect(i.message.length, where).toBeGreaterThan(0);
    expect(i.message.length, where).toBeLessThanOrEqual(GRAPH_LIMITS.maxMessageLength);
    expect(['error', 'warning'], where).toContain(i.severity);
  }
}

describe('fuzz: graph files', () => {
  it(
    `${RUNS} mutated graph files end in a located refusal or a usable graph`,
    () => {
      const outcomes = new Outcomes();
      fc.assert(
        fc.property(caseArb, (c) => {
          const text = render(c);
          const r = guarded('loading the graph', () => loadGraph(text, catalogue));
          expectLocated(r.issues, 'load');
          expect(r.issues.length).toBeLessThanOrEqual(GRAPH_LIMITS.maxIssues + 1);
          if (!r.ok) {
            expect(r.issues.length).toBeGreaterThan(0);
            const m = r.issues[0].message;
            outcomes.add(
              /more than the|nested more than/.test(m)
                ? 'refused: over a limit'
                : /^not valid JSON/.test(m)
                  ? 'refused: not JSON'
                  : 'refused: not a graph',
            );
            return;
          }
          const a = guarded('analysing the graph', () => analyzeGraph(r.graph, catalogue));
          expectLocated(a.issues, 'analysis');
          const again = guarded('saving and reloading the graph', () =>
            loadGraph(saveGraph(r.graph), catalogue),
          );
          expect(again.ok).toBe(true);
          outcomes.add(
            a.issues.some((i) => i.severity === 'error')
              ? 'loaded, with errors'
              : 'loaded, no errors',
          );
        }),
        fuzzParams(RUNS),
      );
      console.log(outcomes.report('fuzz graphs'));
      expect(outcomes.total).toBe(RUNS);
    },
    60_000 + RUNS * 200,
  ); // a bound on the whole run, sized by its count
});
