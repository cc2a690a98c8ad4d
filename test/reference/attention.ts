/**
 * Float64 plain-loop reference of SAM/MAM attention (window and global) and
 * of the Swin/ViT/MAM block, with analytic backward. Written from
 * MAM-SPEC.md §1–2: windows are described by explicit token index lists
 * (which grid token sits at slot n of window `win` after the roll), not by
 * roll/partition/reverse, so it shares no structure with src/ops.
 */
import { gelu, geluGrad, layerNormRows, matmulBias, type F64 } from './math.ts';

export type Layout = 'window' | 'spatial';

/** Which tokens attend together. */
export interface WindowPlan {
  L: number;
  N: number;
  /** windows[win][n] = grid token index (row-major) at slot n of window win */
  windows: Int32Array[];
  /** row of that slot in window-layout memory: win·N + n */
  windowRows: Int32Array[];
  /** bias table row of slot pair (i, j): [N·N], or null (no bias) */
  biasIndex: Int32Array | null;
  /** per-window additive mask [N·N], or null */
  masks: (F64 | null)[];
  w: number;
  shift: number;
}

/** Swin windows of a H×W grid; applies w_eff = min(w, H, W) and shift 0 when min(H, W) ≤ w. */
export function windowPlan(H: number, W: number, window: number, shift: number): WindowPlan {
  const w = Math.min(window, H, W);
  const s = Math.min(H, W) <= window ? 0 : shift;
  const N = w * w;
  const nWr = H / w;
  const nWc = W / w;
  const windows: Int32Array[] = [];
  const windowRows: Int32Array[] = [];
  const masks: (F64 | null)[] = [];
  // region of a rolled-grid coordinate: [0, n−w) → 0, [n−w, n−s) → 1, [n−s, n) → 2
  const region = (p: number, n: number): number => (p < n - w ? 0 : p < n - s ? 1 : 2);
  for (let wr = 0; wr < nWr; wr++) {
    for (let wc = 0; wc < nWc; wc++) {
      const win = wr * nWc + wc;
      const toks = new Int32Array(N);
      const rows = new Int32Array(N);
      const labels: number[] = [];
      for (let ir = 0; ir < w; ir++) {
        for (let ic = 0; ic < w; ic++) {
          const n = ir * w + ic;
          const rr = wr * w + ir; // rolled-grid coordinates
          const rc = wc * w + ic;
          // torch.roll(x, −s): rolled[rr, rc] = x[(rr + s) mod H, (rc + s) mod W]
          toks[n] = ((rr + s) % H) * W + ((rc + s) % W);
          rows[n] = win * N + n;
          labels.push(region(rr, H) * 3 + region(rc, W));
        }
      }
      windows.push(toks);
      windowRows.push(rows);
      if (s > 0) {
        const m = new Float64Array(N * N);
        for (let i = 0; i < N; i++)
          for (let j = 0; j < N; j++) m[i * N + j] = labels[i] === labels[j] ? 0 : -100;
        masks.push(m);
      } else masks.push(null);
    }
  }
  const biasIndex = new Int32Array(N * N);
  for (let i = 0; i < N; i++) {
    for (let j = 0; j < N; j++) {
      const ri = Math.floor(i / w),
        ci = i % w,
        rj = Math.floor(j / w),
        cj = j % w;
      biasIndex[i * N + j] = (ri - rj + w - 1) * (2 * w - 1) + (ci - cj + w - 1);
    }
  }
  return { L: H * W, N, windows, windowRows, biasIndex, masks, w, shift: s };
}

/** One window holding all L tokens in grid order, no bias, no mask (ViT). */
export function globalPlan(L: number): WindowPlan {
  const toks = new Int32Array(L).map((_, i) => i);
  return {
    L,
    N: L,
    windows: [toks],
    windowRows: [toks.slice()],
    biasIndex: null,
    masks: [null],
    w: 0,
    shift: 0,
  };
}

export interface RefAttn {
  C: number;
  heads: number;
  qkvW: F64; // [C, 3C]
  qkvB: F64; // [3C]
  projW: F64; // [C, C]
  projB: F64; // [C]
  table: F64 | null; // [T, heads]
}

export interface AttnCache {
  B: number;
  u: F64;
  qkv: F64; // [B·L, 3C]
  qhat: F64; // [B·L, C], by grid token
  probs: F64[]; // per (b, win, head): [N·N]
  yPre: F64; // [B·L, C]
  memRows: Int32Array[];
}

function memRowsOf(plan: WindowPlan, layout: Layout): Int32Array[] {
  return layout === 'window' ? plan.windowRows : plan.windows;
}

/** Attention forward on u [B·L·C]; memIn / memOut [B·L·C] in `layout`; memIn null = 0. */
export function refAttentionForward(
  u: F64,
  B: number,
  p: RefAttn,
  plan: WindowPlan,
  memIn: F64 | null,
  layout: Layout,
): { y: F64; memOut: F64; cache: AttnCache } {
  const { C, heads } = p;
  const { L, N } = plan;
  const d = C / heads;
  const scale = 1 / Math.sqrt(d);
  const qkv = matmulBias(u, B * L, C, p.qkvW, 3 * C, p.qkvB);
  const qhat = new Float64Array(B * L * C);
  const memOut = new Float64Array(B * L * C);
  const yPre = new Float64Array(B * L * C);
  const probs: F64[] = [];
  const memRows = memRowsOf(plan, layout);
  for (let b = 0; b < B; b++) {
    plan.windows.forEach((toks, win) => {
      const rows = memRows[win];
      for (let n = 0; n < N; n++) {
        const t = b * L + toks[n];
        for (let c = 0; c < C; c++) {
          const v = qkv[t * 3 * C + c] + (memIn ? memIn[(b * L + rows[n]) * C + c] : 0);
          qhat[t * C + c] = v;
          memOut[(b * L + rows[n]) * C + c] = v;
        }
      }
      for (let h = 0; h < heads; h++) {
        const A = new Float64Array(N * N);
        for (let i = 0; i < N; i++) {
          const ti = b * L + toks[i];
          let mx = -Infinity;
          for (let j = 0; j < N; j++) {
            const tj = b * L + toks[j];
            let s = 0;
            for (let e = 0; e < d; e++)
              s += qhat[ti * C + h * d + e] * scale * qkv[tj * 3 * C + C + h * d + e];
            if (plan.biasIndex && p.table) s += p.table[plan.biasIndex[i * N + j] * heads + h];
            const m = plan.masks[win];
            if (m) s += m[i * N + j];
            A[i * N + j] = s;
            mx = Math.max(mx, s);
          }
          let z = 0;
          for (let j = 0; j < N; j++) z += A[i * N + j] = Math.exp(A[i * N + j] - mx);
          for (let j = 0; j < N; j++) A[i * N + j] /= z;
          for (let e = 0; e < d; e++) {
            let o = 0;
            for (let j = 0; j < N; j++)
              o += A[i * N + j] * qkv[(b * L + toks[j]) * 3 * C + 2 * C + h * d + e];
            yPre[ti * C + h * d + e] = o;
          }
        }
        probs.push(A);
      }
    });
  }
  const y = matmulBias(yPre, B * L, C, p.projW, C, p.projB);
  return { y, memOut, cache: { B, u, qkv, qhat, probs, yPre, memRows } };
}

export interface AttnGrads {
  du: F64;
  dmIn: F64;
  qkvW: F64;
  qkvB: F64;
  projW: F64;
  projB: F64;
  table: F64 | null;
}

/** dW[in, out] += xᵀ·dy, db += Σ dy, dx = dy·Wᵀ. */
function linearBackward(
  x: F64,
  dy: F64,
  n: number,
  inF: number,
  outF: number,
  W: F64,
): { dx: F64; dW: F64; db: F64 } {
  const dx = new Float64Array(n * inF);
  const dW = new Float64Array(inF * outF);
  const db = new Float64Array(outF);
  for (let r = 0; r < n; r++) {
    for (let o = 0; o < outF; o++) {
      const g = dy[r * outF + o];
      db[o] += g;
      for (let i = 0; i < inF; i++) {
        dW[i * outF + o] += x[r * inF + i] * g;
        dx[r * inF + i] += g * W[i * outF + o];
      }
    }
  }
  return { dx, dW, db };
}

/** Analytic backward of refAttentionForward for upstream dy and dmemOut (both [B·L·C]). */
export function refAttentionBackward(
  p: RefAttn,
  plan: WindowPlan,
  cache: AttnCache,
  dy: F64,
  dmemOut: F64,
): AttnGrads {
  const { C, heads } = p;
  const { L, N } = plan;
  const { B, qkv, qhat, probs, memRows } = cache;
  const d = C / heads;
  const scale = 1 / Math.sqrt(d);
  const proj = linearBackward(cache.yPre, dy, B * L, C, C, p.projW);
  const dyPre = proj.dx;
  const dqkv = new Float64Array(B * L * 3 * C);
  const dmIn = new Float64Array(B * L * C);
  const dtable = p.table ? new Float64Array(p.table.length) : null;
  let pi = 0;
  for (let b = 0; b < B; b++) {
    plan.windows.forEach((toks, win) => {
      const rows = memRows[win];
      for (let h = 0; h < heads; h++) {
        const A = probs[pi++];
        const dS = new Float64Array(N * N);
        for (let i = 0; i < N; i++) {
          const ti = b * L + toks[i];
          // dA[i, j] = Σ_e dO[i, e]·v[j, e]; dv[j] += A[i, j]·dO[i]
          let rowDot = 0;
          for (let j = 0; j < N; j++) {
            const tj = b * L + toks[j];
            let dA = 0;
            for (let e = 0; e < d; e++) {
              const dO = dyPre[ti * C + h * d + e];
              dA += dO * qkv[tj * 3 * C + 2 * C + h * d + e];
              dqkv[tj * 3 * C + 2 * C + h * d + e] += A[i * N + j] * dO;
            }
            dS[i * N + j] = dA;
            rowDot += dA * A[i * N + j];
          }
          for (let j = 0; j < N; j++) dS[i * N + j] = A[i * N + j] * (dS[i * N + j] - rowDot);
        }
        for (let i = 0; i < N; i++) {
          const ti = b * L + toks[i];
          for (let j = 0; j < N; j++) {
            const tj = b * L + toks[j];
            const g = dS[i * N + j];
            if (dtable && plan.biasIndex) dtable[plan.biasIndex[i * N + j] * heads + h] += g;
            for (let e = 0; e < d; e++) {
              // S = scale·q̂·k: dq̂ += scale·g·k, dk += scale·g·q̂
              dqkv[ti * 3 * C + h * d + e] += scale * g * qkv[tj * 3 * C + C + h * d + e];
              dqkv[tj * 3 * C + C + h * d + e] += scale * g * qhat[ti * C + h * d + e];
            }
          }
        }
      }
      // memOut = q̂ and q̂ = q + m_in: route dmemOut into dq̂, then dm_in = dq = dq̂
      for (let n = 0; n < N; n++) {
        const t = b * L + toks[n];
        const r = b * L + rows[n];
        for (let c = 0; c < C; c++) {
          dqkv[t * 3 * C + c] += dmemOut[r * C + c];
          dmIn[r * C + c] = dqkv[t * 3 * C + c];
        }
      }
    });
  }
  const lin = linearBackward(cache.u, dqkv, B * L, C, 3 * C, p.qkvW);
  return {
    du: lin.dx,
    dmIn,
    qkvW: lin.dW,
    qkvB: lin.db,
    projW: proj.dW,
    projB: proj.db,
    table: dtable,
  };
}

/** LayerNorm backward per row; returns dx, dgamma, dbeta. */
export function layerNormBackward(
  x: F64,
  n: number,
  C: number,
  g: F64,
  dy: F64,
  eps = 1e-5,
): { dx: F64; dg: F64; db: F64 } {
  const dx = new Float64Array(n * C);
  const dg = new Float64Array(C);
  const db = new Float64Array(C);
  const xhat = new Float64Array(C);
  const dxhat = new Float64Array(C);
  for (let r = 0; r < n; r++) {
    let mu = 0;
    for (let c = 0; c < C; c++) mu += x[r * C + c];
    mu /= C;
    let v = 0;
    for (let c = 0; c < C; c++) v += (x[r * C + c] - mu) ** 2;
    v /= C;
    const inv = 1 / Math.sqrt(v + eps);
    let m1 = 0;
    let m2 = 0;
    for (let c = 0; c < C; c++) {
      xhat[c] = (x[r * C + c] - mu) * inv;
      const gy = dy[r * C + c];
      dg[c] += gy * xhat[c];
      db[c] += gy;
      dxhat[c] = gy * g[c];
      m1 += dxhat[c];
      m2 += dxhat[c] * xhat[c];
    }
    m1 /= C;
    m2 /= C;
    for (let c = 0; c < C; c++) dx[r * C + c] = inv * (dxhat[c] - m1 - xhat[c] * m2);
  }
  return { dx, dg, db };
}

export interface RefBlock {
  C: number;
  hidden: number;
  n1w: F64;
  n1b: F64;
  attn: RefAttn;
  n2w: F64;
  n2b: F64;
  fc1W: F64; // [C, hidden]
  fc1B: F64;
  fc2W: F64; // [hidden, C]
  fc2B: F64;
}

export interface BlockCache {
  B: number;
  x: F64;
  attn: AttnCache;
  x1: F64;
  z: F64;
  h: F64;
  g: F64;
}

/** Block forward: x1 = x + attn(LN1(x)); y = x1 + fc2(gelu(fc1(LN2(x1)))). */
export function refBlockForward(
  x: F64,
  B: number,
  p: RefBlock,
  plan: WindowPlan,
  memIn: F64 | null,
  layout: Layout,
): { y: F64; memOut: F64; cache: BlockCache } {
  const { C, hidden } = p;
  const n = B * plan.L;
  const u = layerNormRows(x, n, C, p.n1w, p.n1b);
  const a = refAttentionForward(u, B, p.attn, plan, memIn, layout);
  const x1 = x.map((v, i) => v + a.y[i]);
  const z = layerNormRows(x1, n, C, p.n2w, p.n2b);
  const h = matmulBias(z, n, C, p.fc1W, hidden, p.fc1B);
  const g = h.map(gelu);
  const f = matmulBias(g, n, hidden, p.fc2W, C, p.fc2B);
  const y = x1.map((v, i) => v + f[i]);
  return { y, memOut: a.memOut, cache: { B, x, attn: a.cache, x1, z, h, g } };
}

export interface BlockGrads {
  dx: F64;
  dmIn: F64;
  n1w: F64;
  n1b: F64;
  attn: AttnGrads;
  n2w: F64;
  n2b: F64;
  fc1W: F64;
  fc1B: F64;
  fc2W: F64;
  fc2B: F64;
}

export function refBlockBackward(
  p: RefBlock,
  plan: WindowPlan,
  cache: BlockCache,
  dy: F64,
  dmemOut: F64,
): BlockGrads {
  const { C, hidden } = p;
  const n = cache.B * plan.L;
  const fc2 = linearBackward(cache.g, dy, n, hidden, C, p.fc2W);
  const dh = fc2.dx.map((v, i) => v * geluGrad(cache.h[i]));
  const fc1 = linearBackward(cache.z, dh, n, C, hidden, p.fc1W);
  const ln2 = layerNormBackward(cache.x1, n, C, p.n2w, fc1.dx);
  const dx1 = dy.map((v, i) => v + ln2.dx[i]);
  const at = refAttentionBackward(p.attn, plan, cache.attn, dx1, dmemOut);
  const ln1 = layerNormBackward(cache.x, n, C, p.n1w, at.du);
  const dx = dx1.map((v, i) => v + ln1.dx[i]);
  return {
    dx,
    dmIn: at.dmIn,
    n1w: ln1.dg,
    n1b: ln1.db,
    attn: at,
    n2w: ln2.dg,
    n2b: ln2.db,
    fc1W: fc1.dW,
    fc1B: fc1.db,
    fc2W: fc2.dW,
    fc2B: fc2.db,
  };
}

/** The sizes of a batch of windows for {@link refWindowAttentionCore}. */
export interface CoreDims {
  /** windows in the batch (batch outermost: window w uses mask w mod nW) */
  windows: number;
  /** windows a sample (the mask's first axis) */
  nW: number;
  /** tokens a window */
  N: number;
  /** heads, of width d */
  h: number;
  d: number;
  /** the logits' scale on q·kᵀ */
  scale: number;
}

/**
 * softmax(scale·q·kᵀ + bias + mask)·v per window and head in float64, and the
 * gradients of Σ out·r for q, k, v and the bias (dL = P ⊙ (dP − Σ_j P·dP)).
 * q, k, v, r and the outputs share one layout, given by `at(w, head, i, c)`
 * (the flat index of window w, head, token i, channel c); bias `[h, N, N]`,
 * mask `[nW, N, N]`.
 */
export function refWindowAttentionCore(
  { windows, nW, N, h, d, scale }: CoreDims,
  at: (w: number, head: number, i: number, c: number) => number,
  q: ArrayLike<number>,
  k: ArrayLike<number>,
  v: ArrayLike<number>,
  bias: ArrayLike<number>,
  mask: ArrayLike<number>,
  r: ArrayLike<number>,
) {
  const size = windows * h * N * d;
  const [out, dq, dk, dv] = [0, 1, 2, 3].map(() => new Float64Array(size));
  const dbias = new Float64Array(h * N * N);
  for (let w = 0; w < windows; w++)
    for (let head = 0; head < h; head++) {
      const x = (i: number, c: number) => at(w, head, i, c);
      for (let i = 0; i < N; i++) {
        const l = new Float64Array(N);
        for (let j = 0; j < N; j++) {
          let dot = 0;
          for (let c = 0; c < d; c++) dot += q[x(i, c)] * k[x(j, c)];
          l[j] = scale * dot + bias[(head * N + i) * N + j] + mask[((w % nW) * N + i) * N + j];
        }
        const m = Math.max(...l);
        const e = l.map((y) => Math.exp(y - m));
        const z = e.reduce((a, y) => a + y, 0);
        const P = e.map((y) => y / z);
        // dP[j] = Σ_c r[i, c]·v[j, c]
        const dP = new Float64Array(N);
        for (let j = 0; j < N; j++)
          for (let c = 0; c < d; c++) {
            out[x(i, c)] += P[j] * v[x(j, c)];
            dP[j] += r[x(i, c)] * v[x(j, c)];
          }
        const dot = P.reduce((a, p, j) => a + p * dP[j], 0);
        for (let j = 0; j < N; j++) {
          const dL = P[j] * (dP[j] - dot);
          dbias[(head * N + i) * N + j] += dL;
          for (let c = 0; c < d; c++) {
            dv[x(j, c)] += P[j] * r[x(i, c)];
            dq[x(i, c)] += scale * dL * k[x(j, c)];
            dk[x(j, c)] += scale * dL * q[x(i, c)];
          }
        }
      }
    }
  return { out, dq, dk, dv, dbias };
}
