/**
 * Attention and blocks (SAM / MAM, window / global) on the tfjs cpu backend
 * against the float64 reference: forward ≤ 1e-5 and tf.grads ≤ 1e-4 against
 * the reference's analytic backward, relative to max|ref|.
 */
import * as tf from '#tfjs';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import {
  globalAttention,
  swinBlock,
  vitBlock,
  windowAttention,
  type MemoryLayout,
} from '../../src/ops/index.ts';
import {
  globalPlan,
  refAttentionForward,
  refBlockBackward,
  refBlockForward,
  windowPlan,
  type WindowPlan,
} from '../reference/attention.ts';
import { relErr, Rng } from '../reference/math.ts';
import {
  blockFromList,
  printMeasured,
  randomBlock,
  record,
  tensor,
  values,
} from '../reference/harness.ts';

beforeAll(async () => {
  await tf.setBackend('cpu');
});
afterAll(() => printMeasured('ops-attention'));

const B = 2;
const C = 8;
const HEADS = 2;

interface Case {
  name: string;
  kind: 'swin' | 'vit';
  grid: [number, number];
  window: number;
  shift: number;
  mem: 'none' | 'empty' | 'in';
  layout: MemoryLayout;
}

const cases: Case[] = [
  {
    name: 'SAM W-MSA',
    kind: 'swin',
    grid: [8, 8],
    window: 4,
    shift: 0,
    mem: 'none',
    layout: 'window',
  },
  {
    name: 'SAM SW-MSA',
    kind: 'swin',
    grid: [8, 8],
    window: 4,
    shift: 2,
    mem: 'none',
    layout: 'window',
  },
  {
    name: 'MAM SW-MSA window layout',
    kind: 'swin',
    grid: [8, 8],
    window: 4,
    shift: 2,
    mem: 'in',
    layout: 'window',
  },
  {
    name: 'MAM SW-MSA spatial layout',
    kind: 'swin',
    grid: [8, 8],
    window: 4,
    shift: 2,
    mem: 'in',
    layout: 'spatial',
  },
  {
    name: 'MAM W-MSA unconnected memory',
    kind: 'swin',
    grid: [8, 8],
    window: 4,
    shift: 0,
    mem: 'empty',
    layout: 'window',
  },
  {
    name: 'MAM grid = window (shift forced 0)',
    kind: 'swin',
    grid: [4, 4],
    window: 7,
    shift: 3,
    mem: 'in',
    layout: 'window',
  },
  {
    name: 'MAM ViT global',
    kind: 'vit',
    grid: [4, 4],
    window: 0,
    shift: 0,
    mem: 'in',
    layout: 'window',
  },
];

function planOf(c: Case): WindowPlan {
  return c.kind === 'vit'
    ? globalPlan(c.grid[0] * c.grid[1])
    : windowPlan(c.grid[0], c.grid[1], c.window, c.shift);
}

describe('attention and blocks vs float64 reference', () => {
  for (const c of cases) {
    it(`attention forward: ${c.name}`, () => {
      const rng = new Rng(21);
      const plan = planOf(c);
      const p = randomBlock(rng, C, HEADS, plan.w);
      const L = plan.L;
      const x = rng.array(B * L * C);
      const m = c.mem === 'in' ? rng.array(B * L * C, 0.5) : null;
      const ref = refAttentionForward(x, B, p.ref.attn, plan, m, c.layout);
      const w = blockFromList(p.list, c.kind === 'swin');
      const xt = tensor(x, [B, L, C]) as tf.Tensor3D;
      const mt = m ? (tensor(m, [B, L, C]) as tf.Tensor3D) : null;
      const mem = c.mem === 'none' ? undefined : { in: mt, layout: c.layout };
      const r =
        c.kind === 'swin'
          ? windowAttention(
              xt,
              w.attn,
              { heads: HEADS, window: c.window, shift: c.shift, grid: c.grid },
              mem,
            )
          : globalAttention(xt, w.attn, { heads: HEADS }, mem);
      expect(record('attention forward y', relErr(values(r.y), ref.y))).toBeLessThan(1e-5);
      if (c.mem === 'none') expect(r.memOut).toBeNull();
      else
        expect(
          record('attention forward memOut', relErr(values(r.memOut!), ref.memOut)),
        ).toBeLessThan(1e-5);
      tf.dispose([xt, ...(mt ? [mt] : []), r.y, ...(r.memOut ? [r.memOut] : []), ...p.list]);
    });

    it(`block forward and gradients: ${c.name}`, () => {
      const rng = new Rng(22);
      const plan = planOf(c);
      const p = randomBlock(rng, C, HEADS, plan.w);
      const L = plan.L;
      const x = rng.array(B * L * C);
      const m = c.mem === 'in' ? rng.array(B * L * C, 0.5) : null;
      const gy = rng.array(B * L * C);
      const gm = c.mem === 'none' ? new Float64Array(B * L * C) : rng.array(B * L * C);
      const ref = refBlockForward(x, B, p.ref, plan, m, c.layout);
      const refG = refBlockBackward(p.ref, plan, ref.cache, gy, gm);

      const opts = { heads: HEADS, window: c.window, shift: c.shift, grid: c.grid };
      const run = (xt: tf.Tensor, mt: tf.Tensor | null, list: tf.Tensor[]) => {
        const w = blockFromList(list, c.kind === 'swin');
        const mem =
          c.mem === 'none' ? undefined : { in: mt as tf.Tensor3D | null, layout: c.layout };
        return c.kind === 'swin'
          ? swinBlock(xt as tf.Tensor3D, w, opts, mem)
          : vitBlock(xt as tf.Tensor3D, w, { heads: HEADS }, mem);
      };
      const xt = tensor(x, [B, L, C]);
      const mt = m ? tensor(m, [B, L, C]) : null;
      const out = run(xt, mt, p.list);
      expect(record('block forward y', relErr(values(out.y), ref.y))).toBeLessThan(1e-5);
      if (out.memOut)
        expect(record('block forward memOut', relErr(values(out.memOut), ref.memOut))).toBeLessThan(
          1e-5,
        );
      tf.dispose([out.y, ...(out.memOut ? [out.memOut] : [])]);

      const gyT = tensor(gy, [B, L, C]);
      const gmT = tensor(gm, [B, L, C]);
      // ViT has no bias table: leave it out of the differentiated inputs
      const params = c.kind === 'swin' ? p.list : p.list.filter((_, i) => i !== 6);
      const withTable = (l: tf.Tensor[]) =>
        c.kind === 'swin' ? l : [...l.slice(0, 6), p.list[6], ...l.slice(6)];
      const inputs = [xt, ...(mt ? [mt] : []), ...params];
      const grads = tf.grads((...ts: tf.Tensor[]) => {
        const o = run(ts[0], mt ? ts[1] : null, withTable(ts.slice(mt ? 2 : 1)));
        const l = tf.sum(tf.mul(o.y, gyT));
        return o.memOut ? tf.add(l, tf.sum(tf.mul(o.memOut, gmT))) : l;
      })(inputs);
      const a = refG.attn;
      const expected = [
        refG.dx,
        ...(mt ? [refG.dmIn] : []),
        refG.n1w,
        refG.n1b,
        a.qkvW,
        a.qkvB,
        a.projW,
        a.projB,
        ...(c.kind === 'swin' ? [a.table!] : []),
        refG.n2w,
        refG.n2b,
        refG.fc1W,
        refG.fc1B,
        refG.fc2W,
        refG.fc2B,
      ];
      const got = grads;
      expect(got.length).toBe(expected.length);
      let worst = 0;
      got.forEach((g, i) => (worst = Math.max(worst, relErr(values(g), expected[i]))));
      expect(record('block gradients (tf.grads vs analytic)', worst)).toBeLessThan(1e-4);
      tf.dispose([...inputs, p.list[6], gyT, gmT, ...grads]);
    });
  }
});

describe('memory layouts', () => {
  /** Chain block A (shift sA) → memory → block B (shift sB), in one layout; returns B's y and memOut. */
  function chain(layout: MemoryLayout, sA: number, sB: number, grid: [number, number], window = 4) {
    const rng = new Rng(31);
    const plan = windowPlan(grid[0], grid[1], window, 0);
    const pa = randomBlock(rng, C, HEADS, plan.w);
    const pb = randomBlock(rng, C, HEADS, plan.w);
    const L = grid[0] * grid[1];
    const x = rng.array(B * L * C);
    const xt = tensor(x, [B, L, C]) as tf.Tensor3D;
    const a = swinBlock(
      xt,
      blockFromList(pa.list, true),
      { heads: HEADS, window, shift: sA, grid },
      { layout },
    );
    const b = swinBlock(
      a.y,
      blockFromList(pb.list, true),
      { heads: HEADS, window, shift: sB, grid },
      { in: a.memOut, layout },
    );
    // reference
    const ra = refBlockForward(
      x,
      B,
      pa.ref,
      windowPlan(grid[0], grid[1], window, sA),
      null,
      layout,
    );
    const rb = refBlockForward(
      ra.y,
      B,
      pb.ref,
      windowPlan(grid[0], grid[1], window, sB),
      ra.memOut,
      layout,
    );
    const res = { y: values(b.y), mem: values(b.memOut!), memA: values(a.memOut!), refY: rb.y };
    tf.dispose([xt, a.y, a.memOut!, b.y, b.memOut!, ...pa.list, ...pb.list]);
    return res;
  }

  it('W-MSA → SW-MSA: window and spatial layouts differ (each matching the reference)', () => {
    const w = chain('window', 0, 2, [8, 8]);
    const s = chain('spatial', 0, 2, [8, 8]);
    expect(record('layout chain window vs ref', relErr(w.y, w.refY))).toBeLessThan(1e-5);
    expect(record('layout chain spatial vs ref', relErr(s.y, s.refY))).toBeLessThan(1e-5);
    const diff = relErr(w.y, s.y);
    console.log(
      `window vs spatial layout, shifted pair: relative difference ${diff.toExponential(2)}`,
    );
    expect(diff).toBeGreaterThan(1e-2);
  });

  it('shift 0 → shift 0: both layouts give the same block output', () => {
    const w = chain('window', 0, 0, [8, 8]);
    const s = chain('spatial', 0, 0, [8, 8]);
    expect(relErr(w.y, s.y)).toBe(0);
    expect(relErr(w.memA, s.memA)).toBeGreaterThan(0); // memory rows are ordered differently
  });

  it('grid = window: shift forced to 0, layouts agree, memory too', () => {
    const w = chain('window', 0, 3, [4, 4], 7);
    const s = chain('spatial', 0, 3, [4, 4], 7);
    expect(relErr(w.y, s.y)).toBe(0);
    expect(relErr(w.mem, s.mem)).toBe(0);
  });

  it('a MAM unit with no memory equals the SAM block bit for bit', () => {
    const rng = new Rng(41);
    const p = randomBlock(rng, C, HEADS, 4);
    const L = 64;
    const xt = tensor(rng.array(B * L * C), [B, L, C]) as tf.Tensor3D;
    const zeros = tf.zeros([B, L, C]) as tf.Tensor3D;
    const w = blockFromList(p.list, true);
    const opts = { heads: HEADS, window: 4, shift: 2, grid: [8, 8] as [number, number] };
    const sam = swinBlock(xt, w, opts);
    const mamEmpty = swinBlock(xt, w, opts, { layout: 'window' });
    const mamZero = swinBlock(xt, w, opts, { in: zeros, layout: 'spatial' });
    expect(Array.from(mamEmpty.y.dataSync())).toEqual(Array.from(sam.y.dataSync()));
    expect(Array.from(mamZero.y.dataSync())).toEqual(Array.from(sam.y.dataSync()));
    expect(sam.memOut).toBeNull();
    tf.dispose([
      xt,
      zeros,
      sam.y,
      mamEmpty.y,
      mamEmpty.memOut!,
      mamZero.y,
      mamZero.memOut!,
      ...p.list,
    ]);
  });
});

describe('drop-path in blocks', () => {
  it('inference (training false) equals no drop-path; training is seeded and per-sample', () => {
    const rng = new Rng(51);
    const p = randomBlock(rng, C, HEADS, 4);
    const L = 64;
    const xt = tensor(rng.array(8 * L * C), [8, L, C]) as tf.Tensor3D;
    const w = blockFromList(p.list, true);
    const base = { heads: HEADS, window: 4, shift: 2, grid: [8, 8] as [number, number] };
    const plain = swinBlock(xt, w, base);
    const off = swinBlock(xt, w, { ...base, dropPath: { rate: 0.5, training: false, seed: 3 } });
    expect(Array.from(off.y.dataSync())).toEqual(Array.from(plain.y.dataSync()));
    const t1 = swinBlock(xt, w, { ...base, dropPath: { rate: 0.5, training: true, seed: 3 } });
    const t2 = swinBlock(xt, w, { ...base, dropPath: { rate: 0.5, training: true, seed: 3 } });
    expect(Array.from(t1.y.dataSync())).toEqual(Array.from(t2.y.dataSync()));
    expect(relErr(values(t1.y), values(plain.y))).toBeGreaterThan(1e-3);
    tf.dispose([xt, plain.y, off.y, t1.y, t2.y, ...p.list]);
  });
});
