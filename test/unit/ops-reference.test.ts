/**
 * The float64 reference checks itself: its analytic backward of attention
 * and of the Swin/MAM block against central finite differences, in float64.
 */
import { describe, expect, it } from 'vitest';
import {
  globalPlan,
  refAttentionBackward,
  refAttentionForward,
  refBlockBackward,
  refBlockForward,
  windowPlan,
  type Layout,
  type RefBlock,
  type WindowPlan,
} from '../reference/attention.ts';
import { erf, maxAbs, Rng, type F64 } from '../reference/math.ts';

function randomRefBlock(rng: Rng, C: number, heads: number, w: number, hidden: number): RefBlock {
  return {
    C,
    hidden,
    n1w: rng.array(C, 0.2, 1),
    n1b: rng.array(C, 0.2),
    attn: {
      C,
      heads,
      qkvW: rng.array(3 * C * C, 0.5),
      qkvB: rng.array(3 * C, 0.2),
      projW: rng.array(C * C, 0.4),
      projB: rng.array(C, 0.2),
      table: w ? rng.array((2 * w - 1) ** 2 * heads, 0.5) : null,
    },
    n2w: rng.array(C, 0.2, 1),
    n2b: rng.array(C, 0.2),
    fc1W: rng.array(C * hidden, 0.4),
    fc1B: rng.array(hidden, 0.2),
    fc2W: rng.array(hidden * C, 0.3),
    fc2B: rng.array(C, 0.2),
  };
}

/** Worst |analytic − FD| / max|analytic| over a sample of entries of `param`. */
function fdCheck(param: F64, analytic: F64, loss: () => number, rng: Rng, samples = 12): number {
  const eps = 1e-6;
  const scale = Math.max(maxAbs(analytic), 1e-12);
  let worst = 0;
  for (let s = 0; s < samples; s++) {
    const e = Math.floor(rng.uniform() * param.length);
    const x0 = param[e];
    param[e] = x0 + eps;
    const lp = loss();
    param[e] = x0 - eps;
    const lm = loss();
    param[e] = x0;
    worst = Math.max(worst, Math.abs((lp - lm) / (2 * eps) - analytic[e]) / scale);
  }
  return worst;
}

const dot = (a: F64, b: F64): number => a.reduce((s, v, i) => s + v * b[i], 0);

describe('float64 reference backward vs finite differences', () => {
  it('erf is accurate', () => {
    // known values
    expect(Math.abs(erf(0.5) - 0.5204998778130465)).toBeLessThan(1e-15);
    expect(Math.abs(erf(1) - 0.8427007929497149)).toBeLessThan(1e-15);
    expect(Math.abs(erf(3) - 0.9999779095030014)).toBeLessThan(1e-15);
    expect(Math.abs(erf(-2.4) + 0.999311486103355)).toBeLessThan(1e-14);
  });

  const cases: { name: string; plan: WindowPlan; layout: Layout; mem: boolean }[] = [
    {
      name: 'SW-MSA, window layout, memory',
      plan: windowPlan(8, 8, 4, 2),
      layout: 'window',
      mem: true,
    },
    {
      name: 'SW-MSA, spatial layout, memory',
      plan: windowPlan(8, 8, 4, 2),
      layout: 'spatial',
      mem: true,
    },
    { name: 'W-MSA, no memory', plan: windowPlan(8, 8, 4, 0), layout: 'window', mem: false },
    { name: 'global (ViT), memory', plan: globalPlan(16), layout: 'window', mem: true },
  ];

  for (const c of cases) {
    it(`attention: ${c.name}`, () => {
      const rng = new Rng(11);
      const B = 2;
      const C = 4;
      const p = randomRefBlock(rng, C, 2, c.plan.w, 8).attn;
      const n = B * c.plan.L * C;
      const u = rng.array(n);
      const m = c.mem ? rng.array(n, 0.5) : null;
      const gy = rng.array(n);
      const gm = rng.array(n);
      const loss = (): number => {
        const r = refAttentionForward(u, B, p, c.plan, m, c.layout);
        return dot(r.y, gy) + dot(r.memOut, gm);
      };
      const f = refAttentionForward(u, B, p, c.plan, m, c.layout);
      const g = refAttentionBackward(p, c.plan, f.cache, gy, gm);
      const errs = [
        fdCheck(u, g.du, loss, rng),
        fdCheck(p.qkvW, g.qkvW, loss, rng),
        fdCheck(p.qkvB, g.qkvB, loss, rng),
        fdCheck(p.projW, g.projW, loss, rng),
        fdCheck(p.projB, g.projB, loss, rng),
      ];
      if (m) errs.push(fdCheck(m, g.dmIn, loss, rng));
      if (p.table) errs.push(fdCheck(p.table, g.table!, loss, rng));
      console.log(`reference attention FD (${c.name}): ${Math.max(...errs).toExponential(2)}`);
      expect(Math.max(...errs)).toBeLessThan(1e-6);
    });

    it(`block: ${c.name}`, () => {
      const rng = new Rng(12);
      const B = 2;
      const C = 4;
      const p = randomRefBlock(rng, C, 2, c.plan.w, 8);
      const n = B * c.plan.L * C;
      const x = rng.array(n);
      const m = c.mem ? rng.array(n, 0.5) : null;
      const gy = rng.array(n);
      const gm = rng.array(n);
      const loss = (): number => {
        const r = refBlockForward(x, B, p, c.plan, m, c.layout);
        return dot(r.y, gy) + dot(r.memOut, gm);
      };
      const f = refBlockForward(x, B, p, c.plan, m, c.layout);
      const g = refBlockBackward(p, c.plan, f.cache, gy, gm);
      const errs = [
        fdCheck(x, g.dx, loss, rng),
        fdCheck(p.n1w, g.n1w, loss, rng),
        fdCheck(p.n1b, g.n1b, loss, rng),
        fdCheck(p.attn.qkvW, g.attn.qkvW, loss, rng),
        fdCheck(p.attn.projB, g.attn.projB, loss, rng),
        fdCheck(p.n2w, g.n2w, loss, rng),
        fdCheck(p.n2b, g.n2b, loss, rng),
        fdCheck(p.fc1W, g.fc1W, loss, rng),
        fdCheck(p.fc1B, g.fc1B, loss, rng),
        fdCheck(p.fc2W, g.fc2W, loss, rng),
        fdCheck(p.fc2B, g.fc2B, loss, rng),
      ];
      if (m) errs.push(fdCheck(m, g.dmIn, loss, rng));
      if (p.attn.table) errs.push(fdCheck(p.attn.table, g.attn.table!, loss, rng));
      console.log(`reference block FD (${c.name}): ${Math.max(...errs).toExponential(2)}`);
      expect(Math.max(...errs)).toBeLessThan(1e-6);
    });
  }
});
