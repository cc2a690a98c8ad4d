/**
 * Attention and memory maps for one pixel (the paper's Fig. 2): for every
 * attention unit, the attention row of the pixel's token over its window
 * (SAM), and for MAM units the softmax with and without the memory term
 * (q̂·kᵀ = q·kᵀ + m·kᵀ) and their difference; plus ‖m‖ per token of every
 * MAM unit's memory output, in grid order. Computed from the kernels through
 * the attention probe (src/ops/attention.ts), which the normal path never
 * pays for.
 *
 * Geometry (MAM-SPEC.md section 1): a unit's grid is rolled by −shift before
 * the window partition, so grid token (r, c) sits at rolled position
 * ((r − s) mod H, (c − s) mod W), in window ⌊rr/w⌋·(W/w) + ⌊rc/w⌋ at slot
 * (rr mod w)·w + (rc mod w); slot n of window win holds grid token
 * ((wr·w + ⌊n/w⌋ + s) mod H, (wc·w + n mod w + s) mod W).
 */
import * as tf from '#tfjs';
import type { CompiledModel } from '../compile/model.ts';
import type { AttentionProbeData } from '../ops/attention.ts';

export interface WindowSlot {
  /** The token's row and column on the unit's grid. */
  token: [number, number];
  window: number;
  slot: number;
}

/** Where grid token (r, c) sits among a unit's windows, the shift accounted for. */
export function windowSlotOf(
  r: number,
  c: number,
  grid: readonly [number, number],
  w: number,
  s: number,
): WindowSlot {
  const [H, W] = grid;
  const rr = (((r - s) % H) + H) % H;
  const rc = (((c - s) % W) + W) % W;
  return {
    token: [r, c],
    window: Math.floor(rr / w) * (W / w) + Math.floor(rc / w),
    slot: (rr % w) * w + (rc % w),
  };
}

/** The grid tokens (row-major indices r·W + c) of window `win`, by slot. */
export function windowMembers(
  win: number,
  grid: readonly [number, number],
  w: number,
  s: number,
): number[] {
  const [H, W] = grid;
  const nWc = W / w;
  const wr = Math.floor(win / nWc);
  const wc = win % nWc;
  const out: number[] = [];
  for (let n = 0; n < w * w; n++) {
    const r = (wr * w + Math.floor(n / w) + s) % H;
    const c = (wc * w + (n % w) + s) % W;
    out.push(r * W + c);
  }
  return out;
}

/** One head's row over the window: weights by slot (members give their grid tokens). */
export interface HeadMaps {
  attention: number[];
  /** MAM units with a connected memory: the softmax without the memory term, and attention − that. */
  withoutMemory?: number[];
  difference?: number[];
}

export interface UnitMaps {
  id: string;
  type: string;
  grid: [number, number];
  window: number;
  shift: number;
  /** The image pixels one token covers (rows, columns). */
  scale: [number, number];
  at: WindowSlot;
  /** Grid tokens (r·W + c) of the window, by slot. */
  members: number[];
  heads: HeadMaps[];
  /** ‖m_out‖ per grid token (row-major), for MAM units. */
  memoryNorm?: number[];
  memoryLayout?: string;
}

export interface PixelMaps {
  pixel: [number, number];
  image: [number, number];
  units: UnitMaps[];
}

interface Captured {
  probs: Float32Array;
  without: Float32Array | null;
  shape: number[];
  window: number;
  shift: number;
}

const rowOf = (data: Float32Array, base: number, N: number) =>
  Array.from(data.subarray(base, base + N));

/**
 * The maps of `pixel` (row, column of the input image) for the first image
 * of `x` `[1, H, W, C]`. Units are the plan's attention steps in order.
 */
export function pixelMaps(
  model: CompiledModel,
  x: tf.Tensor4D,
  pixel: [number, number],
): PixelMaps {
  const [, imgH, imgW] = model.plan.input.shape;
  const [pr, pc] = pixel;
  if (!(pr >= 0 && pr < imgH && pc >= 0 && pc < imgW))
    throw new RangeError(`pixel ${pr},${pc} is outside the ${imgH}×${imgW} input`);
  const captured = new Map<string, Captured>();
  const units = model.plan.steps.filter(
    (s) => s.kind.role === 'attention' || s.kind.role === 'memory-unit',
  );
  const memUnits = units.filter((s) => s.kind.role === 'memory-unit');
  const keep = memUnits.map((s) => ({ node: s.id, port: 'memOut' }));
  const { logits, ports } = model.forward(x, {
    keep,
    attentionProbe: (id: string, d: AttentionProbeData) => {
      captured.set(id, {
        probs: d.probs.dataSync() as Float32Array,
        without: d.probsWithoutMemory ? (d.probsWithoutMemory.dataSync() as Float32Array) : null,
        shape: d.probs.shape,
        window: d.window,
        shift: d.shift,
      });
    },
  });
  logits.dispose();
  const memData = new Map<string, Float32Array>();
  for (const [k, t] of Object.entries(ports)) {
    memData.set(k.replace(/:memOut$/, ''), t.dataSync() as Float32Array);
    t.dispose();
  }
  const out: UnitMaps[] = [];
  for (const step of units) {
    const c = captured.get(step.id);
    const shape = step.inShapes.in;
    if (!c || !shape || shape.kind !== 'tokens' || shape.grid.length !== 2) continue;
    const grid: [number, number] = [shape.grid[0], shape.grid[1]];
    const [H, W] = grid;
    const global = c.window === 0;
    const [, heads, N] = c.shape;
    const scale: [number, number] = [imgH / H, imgW / W];
    const r = Math.floor(pr / scale[0]);
    const col = Math.floor(pc / scale[1]);
    const at: WindowSlot = global
      ? { token: [r, col], window: 0, slot: r * W + col }
      : windowSlotOf(r, col, grid, c.window, c.shift);
    const members = global
      ? Array.from({ length: N }, (_, i) => i)
      : windowMembers(at.window, grid, c.window, c.shift);
    const headMaps: HeadMaps[] = [];
    for (let h = 0; h < heads; h++) {
      const base = ((at.window * heads + h) * N + at.slot) * N; // batch 0
      const attention = rowOf(c.probs, base, N);
      const m: HeadMaps = { attention };
      if (c.without) {
        m.withoutMemory = rowOf(c.without, base, N);
        m.difference = attention.map((a, j) => a - (m.withoutMemory as number[])[j]);
      }
      headMaps.push(m);
    }
    const u: UnitMaps = {
      id: step.id,
      type: step.kind.type,
      grid,
      window: global ? Math.max(H, W) : c.window,
      shift: c.shift,
      scale,
      at,
      members,
      heads: headMaps,
    };
    const mem = memData.get(step.id);
    if (mem) {
      const layout = String(step.params.memoryLayout ?? 'window');
      u.memoryLayout = layout;
      u.memoryNorm = memoryNorms(mem, grid, global || layout === 'spatial' ? null : c);
    }
    out.push(u);
  }
  return { pixel, image: [imgH, imgW], units: out };
}

/**
 * ‖m‖ per grid token of the first image's memory `[1, L, C]`. In window
 * layout row win·N + n is the query of slot n of window win (see
 * src/ops/attention.ts), so it goes back to that slot's grid token.
 */
function memoryNorms(
  mem: Float32Array,
  grid: [number, number],
  windows: { window: number; shift: number } | null,
): number[] {
  const L = grid[0] * grid[1];
  const C = mem.length / L;
  const norms = new Array<number>(L).fill(0);
  const N = windows ? windows.window ** 2 : L;
  for (let row = 0; row < L; row++) {
    let s = 0;
    for (let k = 0; k < C; k++) s += mem[row * C + k] ** 2;
    const token = windows
      ? windowMembers(Math.floor(row / N), grid, windows.window, windows.shift)[row % N]
      : row;
    norms[token] = Math.sqrt(s);
  }
  return norms;
}
