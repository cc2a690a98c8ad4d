// Copy/paste (src/graph/clipboard.ts) and the automatic U layout (src/graph/layout.ts).
import { describe, expect, it } from 'vitest';
import { applyCommand } from '../../src/graph/commands.ts';
import {
  clipboardFromText,
  clipboardToText,
  copySelection,
  cutSelection,
  pasteClipboard,
} from '../../src/graph/clipboard.ts';
import { analyzeGraph } from '../../src/graph/infer.ts';
import { autoArrange, NODE_BOX } from '../../src/graph/layout.ts';
import { presets } from '../../src/graph/presets.ts';
import type { GraphDoc } from '../../src/graph/types.ts';
import { catalogue } from '../../nodes/index.ts';

const P = presets();

describe('clipboard', () => {
  const base = P['swin-unet-mam-ists'];
  const sel = ['layers.0.blocks.0', 'layers.0.blocks.1'];

  it('copies the nodes and only the links among them', () => {
    const c = copySelection(base, sel);
    expect(c.nodes.map((n) => n.id)).toEqual(sel);
    // Between the two, in file order: the memory link and the token link; patch_embed → blocks.0 and blocks.1 → downsample stay behind.
    expect(c.links).toEqual([
      {
        from: { node: 'layers.0.blocks.0', port: 'memOut' },
        to: { node: 'layers.0.blocks.1', port: 'memIn' },
      },
      {
        from: { node: 'layers.0.blocks.0', port: 'out' },
        to: { node: 'layers.0.blocks.1', port: 'in' },
      },
    ]);
  });

  it('pastes with fresh ids, remapped links and an offset; pasting again gives other ids', () => {
    const c = copySelection(base, sel);
    const p1 = pasteClipboard(base, c);
    expect(p1.ids).toEqual({
      'layers.0.blocks.0': 'layers.0.blocks.0_copy',
      'layers.0.blocks.1': 'layers.0.blocks.1_copy',
    });
    const d1 = applyCommand(base, p1.command);
    const orig = base.nodes.find((n) => n.id === 'layers.0.blocks.1')!;
    const copy = d1.nodes.find((n) => n.id === 'layers.0.blocks.1_copy')!;
    expect(copy.position).toEqual([orig.position[0] + 40, orig.position[1] + 40]);
    expect(copy.params).toEqual(orig.params);
    expect(d1.links.slice(base.links.length)).toEqual([
      {
        from: { node: 'layers.0.blocks.0_copy', port: 'memOut' },
        to: { node: 'layers.0.blocks.1_copy', port: 'memIn' },
      },
      {
        from: { node: 'layers.0.blocks.0_copy', port: 'out' },
        to: { node: 'layers.0.blocks.1_copy', port: 'in' },
      },
    ]);
    const p2 = pasteClipboard(d1, c, { offset: [0, 300] });
    expect(Object.values(p2.ids)).toEqual(['layers.0.blocks.0_copy2', 'layers.0.blocks.1_copy2']);
    // A copy of a copy does not grow the suffix.
    const d2 = applyCommand(d1, p2.command);
    const p3 = pasteClipboard(d2, copySelection(d2, ['layers.0.blocks.0_copy']));
    expect(Object.values(p3.ids)).toEqual(['layers.0.blocks.0_copy3']);
    const d3 = applyCommand(d2, p3.command);
    expect(new Set(d3.nodes.map((n) => n.id)).size).toBe(d3.nodes.length);
    expect(
      analyzeGraph(d3, catalogue).issues.filter((i) => i.message.includes('duplicate')),
    ).toEqual([]);
    // The pasted copy is its own chain of two (its token input is unconnected, so it has no shapes yet).
    expect(
      analyzeGraph(d1, catalogue)
        .chains.filter((ch) => ch.units[0].endsWith('_copy'))
        .map((ch) => ch.units),
    ).toEqual([['layers.0.blocks.0_copy', 'layers.0.blocks.1_copy']]);
  });

  it('cut = copy + remove-nodes; text round trip; foreign text refused in words', () => {
    const { clipboard, command } = cutSelection(base, sel);
    expect(command).toEqual({ type: 'remove-nodes', ids: sel });
    const back = clipboardFromText(clipboardToText(clipboard));
    expect(back).toEqual({ ok: true, clipboard });
    expect(clipboardFromText('hello')).toEqual({
      ok: false,
      message: 'the clipboard does not hold mam-studio nodes (it is not JSON)',
    });
    expect(clipboardFromText('{"format":"x"}')).toEqual({
      ok: false,
      message: 'the clipboard does not hold mam-studio nodes',
    });
  });
});

describe('autoArrange', () => {
  const arranged = (doc: GraphDoc) => applyCommand(doc, autoArrange(doc));
  const pos = (doc: GraphDoc, id: string) => doc.nodes.find((n) => n.id === id)!.position;

  for (const [name, doc] of Object.entries(P)) {
    it(`${name}: no two ${NODE_BOX.width}×${NODE_BOX.height} boxes overlap; deterministic`, () => {
      const cmd = autoArrange(doc);
      expect(cmd.type).toBe('move-nodes');
      const d = applyCommand(doc, cmd);
      for (let i = 0; i < d.nodes.length; i++) {
        for (let j = i + 1; j < d.nodes.length; j++) {
          const [ax, ay] = d.nodes[i].position;
          const [bx, by] = d.nodes[j].position;
          const apart = Math.abs(ax - bx) >= NODE_BOX.width || Math.abs(ay - by) >= NODE_BOX.height;
          expect(apart, `${d.nodes[i].id} overlaps ${d.nodes[j].id}`).toBe(true);
        }
      }
      expect(autoArrange(doc)).toEqual(cmd);
      expect(autoArrange(d)).toEqual(cmd); // positions do not feed back
    });
  }

  it('Swin-Unet MAM STS enc+dec: a U — encoder stages descend, decoder stages ascend on the right, memory nodes between rows', () => {
    const d = arranged(P['swin-unet-mam-sts-encdec']);
    const ys = (ids: string[]) => ids.map((id) => pos(d, id)[1]);
    const stage = (p: string, n: number) => Array.from({ length: n }, (_, j) => `${p}.blocks.${j}`);
    const enc = [
      stage('layers.0', 2),
      stage('layers.1', 2),
      stage('layers.2', 6),
      stage('layers.3', 2),
    ];
    const dec = [stage('layers_up.1', 6), stage('layers_up.2', 2), stage('layers_up.3', 2)];
    for (const s of [...enc, ...dec]) expect(new Set(ys(s)).size).toBe(1); // a stage is one row
    for (let i = 0; i < 3; i++) {
      expect(Math.max(...ys(enc[i]))).toBeLessThan(Math.min(...ys(enc[i + 1]))); // stage i above stage i+1
      const m = pos(d, `memory_merging.${i}`)[1];
      expect(m).toBeGreaterThan(ys(enc[i])[0]);
      expect(m).toBeLessThan(ys(enc[i + 1])[0]);
    }
    // Decoder stage k shares the row of its mirror encoder stage 3−k and lies right of the whole encoder.
    dec.forEach((s, k) => expect(ys(s)[0]).toBe(ys(enc[2 - k])[0]));
    const encMaxX = Math.max(
      ...d.nodes
        .filter(
          (n) =>
            analyzeGraph(d, catalogue).nodes.get(n.id)!.scope === 'encoder' &&
            !n.id.startsWith('memory_expanding'),
        )
        .map((n) => n.position[0]),
    );
    for (const s of dec) for (const id of s) expect(pos(d, id)[0]).toBeGreaterThan(encMaxX);
    for (let k = 1; k <= 3; k++)
      expect(pos(d, `memory_expanding.${k}`)[0]).toBeGreaterThan(encMaxX);
    // Image-scale nodes on the top row: input on the left, segmentation on the right.
    expect(pos(d, 'input')[1]).toBe(ys(enc[0])[0]);
    expect(pos(d, 'segmentation')[1]).toBe(ys(enc[0])[0]);
  });
});
