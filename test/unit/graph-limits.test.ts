// Graph files beyond the documented limits are refused with a located issue, and inference is iterative.
import { execFileSync } from 'node:child_process';
import { mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { describe, expect, it } from 'vitest';
import { GraphBuilder } from '../../src/graph/builder.ts';
import { analyzeGraph } from '../../src/graph/infer.ts';
import { GRAPH_LIMITS } from '../../src/graph/limits.ts';
import { loadGraph } from '../../src/graph/load.ts';
import { mamChain } from '../helpers/mam-chain.ts';
import { catalogue } from '../../nodes/index.ts';

const head = '{"format":"mam-studio/graph","version":1,';

/** `{"a":{"a":…1…}}` holding `levels` nested objects, written as text (no recursion to build it). */
const nested = (levels: number) => '{"a":'.repeat(levels) + '1' + '}'.repeat(levels);

function mam(args: string[]) {
  try {
    const out = execFileSync('node', ['bin/mam.js', ...args], {
      encoding: 'utf8',
      stdio: ['ignore', 'pipe', 'pipe'],
    });
    return { code: 0, out };
  } catch (e) {
    const err = e as { status: number; stdout: string };
    return { code: err.status, out: err.stdout };
  }
}

describe('graph file limits', () => {
  it('a 15 KB file with a 3,300-deep unknown field is refused at the depth limit, with its path', () => {
    const text = `${head}"nodes":[],"links":[],"extra":${nested(3300)}}`;
    expect(text.length).toBeGreaterThan(15_000);
    const r = loadGraph(text, catalogue);
    expect(r.ok).toBe(false);
    // The top object is level 1, `extra` level 2: the object at level 65 sits under `extra` and 63 `a`s.
    expect(r.issues).toEqual([
      {
        path: `$.extra${'.a'.repeat(63)}`,
        severity: 'error',
        message: 'the file is nested more than 64 levels deep here',
      },
    ]);
    // The same as an already parsed value, and deep inside a node.
    const inNode = JSON.parse(
      `${head}"nodes":[{"id":"x","type":"layer-norm","params":{},"position":[0,0],"deep":${nested(3300)}}],"links":[]}`,
    );
    const n = loadGraph(inNode, catalogue);
    expect(!n.ok && n.issues[0].path).toBe(`$.nodes[0].deep${'.a'.repeat(61)}`); // nodes 2, [0] 3, deep 4
  });

  it('nesting exactly at the limit loads', () => {
    // top (1) → extra (2) → 62 more levels = 64.
    const r = loadGraph(`${head}"nodes":[],"links":[],"extra":${nested(63)}}`, catalogue);
    expect(r.ok).toBe(true);
  });

  it('mam inspect --json prints JSON naming the place for the deep file (exit 2)', () => {
    const dir = mkdtempSync(join(tmpdir(), 'mam-limits-'));
    try {
      const file = join(dir, 'deep.json');
      writeFileSync(file, `${head}"nodes":[],"links":[],"extra":${nested(3300)}}`);
      const r = mam(['inspect', file, '--json']);
      expect(r.code).toBe(2);
      const report = JSON.parse(r.out) as { errors: { path: string; message: string }[] };
      expect(report.errors[0].path).toMatch(/^\$\.extra(\.a){63}$/);
    } finally {
      rmSync(dir, { recursive: true, force: true });
    }
  });

  it('a 1,000,000-node file is refused by its size before parsing; a compact one by its node count', () => {
    const node = '{"id":"n","type":"layer-norm","params":{},"position":[0,0]},';
    const big = `${head}"links":[],"nodes":[${node.repeat(1_000_000)}${node.slice(0, -1)}]}`;
    const r = loadGraph(big, catalogue);
    expect(r).toEqual({
      ok: false,
      issues: [
        {
          path: '$',
          severity: 'error',
          message: `the file holds ${big.length.toLocaleString('en-US')} characters, more than the 33,554,432 a graph file may hold`,
        },
      ],
    });
    const compact = `${head}"links":[],"nodes":[${'0,'.repeat(1_000_000)}0]}`;
    const c = loadGraph(compact, catalogue);
    expect(!c.ok && c.issues).toEqual([
      {
        path: '$.nodes',
        severity: 'error',
        message: 'the graph has 1,000,001 nodes, more than the 20,000 allowed',
      },
    ]);
    const links = loadGraph(`${head}"nodes":[],"links":[${'0,'.repeat(40_000)}0]}`, catalogue);
    expect(!links.ok && links.issues[0].path).toBe('$.links');
    const edges = loadGraph(
      `{"format":"mam-studio/graph","version":0,"nodes":[],"edges":[${'0,'.repeat(40_000)}0]}`,
      catalogue,
    );
    expect(!edges.ok && edges.issues[0].path).toBe('$.edges');
  });

  it('130,000 nodes of unknown type are refused; 20,000 load with 200 issues listed and the rest counted', () => {
    const unknown = (n: number) =>
      JSON.stringify({
        format: 'mam-studio/graph',
        version: 1,
        nodes: Array.from({ length: n }, (_, i) => ({
          id: `n${i}`,
          type: 'future',
          params: {},
          position: [0, 0],
        })),
        links: [],
      });
    const r = loadGraph(unknown(130_000), catalogue);
    expect(!r.ok && r.issues[0].message).toBe(
      'the graph has 130,000 nodes, more than the 20,000 allowed',
    );
    const ok = loadGraph(unknown(20_000), catalogue);
    expect(ok.ok).toBe(true);
    expect(ok.issues).toHaveLength(201);
    expect(ok.issues[199].path).toBe('$.nodes[199].type');
    expect(ok.issues[200]).toEqual({
      path: '$',
      severity: 'error',
      message: '…and 19,800 more problems (19,800 of them errors) not listed',
    });
  });

  it('a message quoting a 100,000-character id is clipped to the message limit', () => {
    const id = 'x'.repeat(100_000);
    const r = loadGraph(
      JSON.stringify({
        format: 'mam-studio/graph',
        version: 1,
        nodes: [{ id, type: 'future', params: {}, position: [0, 0] }],
        links: [],
      }),
      catalogue,
    );
    expect(r.issues).toHaveLength(1);
    const m = r.issues[0].message;
    expect(m).toHaveLength(GRAPH_LIMITS.maxMessageLength);
    expect(m.startsWith(`node '${'x'.repeat(100)}`)).toBe(true);
    expect(m.endsWith('…')).toBe(true);
    if (!r.ok) return;
    const a = analyzeGraph(r.graph, catalogue);
    expect(Math.max(...a.issues.map((i) => i.message.length))).toBeLessThanOrEqual(500);
  });
});

describe('iterative inference', () => {
  it('a memory chain of 10,000 units is one chain, in order', () => {
    const a = analyzeGraph(mamChain(10_000).doc, catalogue);
    expect(a.issues.filter((i) => i.severity === 'error')).toEqual([]);
    expect(a.chains).toHaveLength(1);
    expect(a.chains[0].units).toEqual(Array.from({ length: 10_000 }, (_, i) => `u${i}`));
    expect(a.chains[0].links).toHaveLength(9_999);
    expect(a.order).toHaveLength(10_002);
  });

  it('a 3,000-node cycle is reported once, naming its first nodes and its length', () => {
    const b = new GraphBuilder(catalogue);
    for (let i = 0; i < 3000; i++) b.add(`n${i}`, 'layer-norm');
    for (let i = 0; i < 3000; i++) b.link(`n${i}`, `n${(i + 1) % 3000}`);
    // A tail of 5,000 nodes downstream of the cycle is not on it and gets no cycle issue.
    for (let i = 0; i < 5000; i++) {
      b.add(`t${i}`, 'layer-norm');
      b.link(i > 0 ? `t${i - 1}` : 'n0', `t${i}`);
    }
    const a = analyzeGraph(b.doc, catalogue);
    const cycles = a.issues.filter((i) => i.message.includes('cycle'));
    expect(cycles).toEqual([
      {
        path: '$.nodes[0]',
        node: 'n0',
        severity: 'error',
        message:
          '3,000 nodes form a cycle (n0 → n1 → n2 → n3 → n4 → n5 → …): a network must flow one way',
      },
    ]);
    expect(a.nodes.get('n2999')?.issues).toContain(cycles[0]);
    expect(a.nodes.get('t4999')?.issues.some((i) => i.message.includes('cycle'))).toBe(false);
  });

  it('two separate cycles are two issues, each closing on its first node', () => {
    const b = new GraphBuilder(catalogue);
    for (const id of ['a', 'b', 'c', 'd']) b.add(id, 'layer-norm');
    b.link('a', 'b');
    b.link('b', 'a');
    b.link('c', 'd');
    b.link('d', 'c');
    const msgs = analyzeGraph(b.doc, catalogue)
      .issues.filter((i) => i.message.includes('cycle'))
      .map((i) => i.message);
    expect(msgs).toEqual([
      '2 nodes form a cycle (a → b → a): a network must flow one way',
      '2 nodes form a cycle (c → d → c): a network must flow one way',
    ]);
  });
});
