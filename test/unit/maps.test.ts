/**
 * Attention and memory maps (src/analysis/maps.ts) and the attention probe
 * (src/ops/attention.ts): the pixel → window/slot mapping under shift against
 * hand-derived positions and the float64 reference's own window lists; the
 * probe's softmax against the reference's attention weights (≤ 1e-6), with
 * the memory term removed equal to SAM's; rows summing to 1 on a compiled
 * graph; ‖m‖ put back on the grid the same from window and spatial layout.
 */
import * as tf from '#tfjs';
import { beforeAll, describe, expect, it } from 'vitest';
import { catalogue } from '../../nodes/index.ts';
import { pixelMaps, windowMembers, windowSlotOf } from '../../src/analysis/maps.ts';
import { kernels } from '../../src/compile/kernels/index.ts';
import { CompiledModel } from '../../src/compile/model.ts';
import { planGraph } from '../../src/compile/plan.ts';
import { loadWeights, saveWeights } from '../../src/compile/weights.ts';
import { applyCommand } from '../../src/graph/commands.ts';
import { convertToMam, convertToSam } from '../../src/graph/convert.ts';
import type { GraphDoc } from '../../src/graph/types.ts';
import { windowAttention, type AttentionProbeData } from '../../src/ops/attention.ts';
import { refAttentionForward, windowPlan } from '../reference/attention.ts';
import { blockFromList, randomBlock } from '../reference/harness.ts';
import { Rng } from '../reference/math.ts';
import { tinyGraph } from '../helpers/tiny-graph.ts';

beforeAll(async () => {
  await tf.setBackend('cpu');
});

describe('pixel → window and slot, the shift accounted for', () => {
  it('hand-derived positions on an 8×8 grid, window 4, shift 2', () => {
    // Token (0,0) rolls by −2 to (6,6): window (1,1) = 3, slot (2·4 + 2) = 10.
    expect(windowSlotOf(0, 0, [8, 8], 4, 2)).toEqual({ token: [0, 0], window: 3, slot: 10 });
    // Token (2,2) rolls to (0,0): window 0, slot 0.
    expect(windowSlotOf(2, 2, [8, 8], 4, 2)).toEqual({ token: [2, 2], window: 0, slot: 0 });
    // Token (5,1) rolls to (3,7): window (0,1) = 1, slot 3·4 + 3 = 15.
    expect(windowSlotOf(5, 1, [8, 8], 4, 2)).toMatchObject({ window: 1, slot: 15 });
    // Without shift, (5,1) is in window (1,0) = 2 at slot 1·4 + 1 = 5.
    expect(windowSlotOf(5, 1, [8, 8], 4, 0)).toMatchObject({ window: 2, slot: 5 });
    // Window 3 under shift 2 holds rows and columns 6, 7, 0, 1.
    const rc = (t: number) => [Math.floor(t / 8), t % 8];
    expect(windowMembers(3, [8, 8], 4, 2).map(rc).slice(0, 5)).toEqual([
      [6, 6],
      [6, 7],
      [6, 0],
      [6, 1],
      [7, 6],
    ]);
    expect(windowMembers(3, [8, 8], 4, 2)[10]).toBe(0);
  });

  it.each([
    [8, 8, 4, 2],
    [8, 8, 4, 0],
    [12, 8, 4, 2],
    [6, 6, 3, 1],
  ])(
    'every token of %i×%i (window %i, shift %i) agrees with the reference window lists',
    (H, W, w, s) => {
      const plan = windowPlan(H, W, w, s);
      for (let r = 0; r < H; r++)
        for (let c = 0; c < W; c++) {
          const at = windowSlotOf(r, c, [H, W], w, s);
          expect(plan.windows[at.window][at.slot]).toBe(r * W + c);
        }
      plan.windows.forEach((toks, win) =>
        expect(windowMembers(win, [H, W], w, s)).toEqual(Array.from(toks)),
      );
    },
  );
});

describe('the attention probe against the float64 reference', () => {
  const B = 2,
    H = 8,
    W = 8,
    C = 8,
    heads = 2,
    w = 4,
    s = 2;
  const L = H * W;
  function probed(u: Float64Array, list: tf.Tensor[], mem: Float64Array | null) {
    let got: { probs: Float32Array; without: Float32Array | null } | null = null;
    const probe = (d: AttentionProbeData) => {
      got = {
        probs: d.probs.dataSync() as Float32Array,
        without: d.probsWithoutMemory ? (d.probsWithoutMemory.dataSync() as Float32Array) : null,
      };
    };
    tf.tidy(() => {
      const x = tf.tensor3d(Float32Array.from(u), [B, L, C]);
      const m = mem
        ? { in: tf.tensor3d(Float32Array.from(mem), [B, L, C]), layout: 'window' as const }
        : undefined;
      windowAttention(
        x,
        blockFromList(list, true).attn,
        { heads, window: w, shift: s, grid: [H, W], probe },
        m,
      );
    });
    return got as unknown as { probs: Float32Array; without: Float32Array | null };
  }
  const maxDiff = (a: ArrayLike<number>, b: ArrayLike<number>) => {
    expect(a.length).toBe(b.length);
    let m = 0;
    for (let i = 0; i < a.length; i++) m = Math.max(m, Math.abs(a[i] - b[i]));
    return m;
  };

  it('SAM and MAM probabilities equal the reference; memory removed equals SAM; rows sum to 1', () => {
    const rng = new Rng(5);
    const { ref, list } = randomBlock(rng, C, heads, w);
    const u = rng.array(B * L * C, 0.5);
    const mem = rng.array(B * L * C, 0.5);
    const plan = windowPlan(H, W, w, s);
    const flat = (probs: Float64Array[]) => Float64Array.from(probs.flatMap((p) => Array.from(p)));
    const refSam = flat(refAttentionForward(u, B, ref.attn, plan, null, 'window').cache.probs);
    const refMam = flat(refAttentionForward(u, B, ref.attn, plan, mem, 'window').cache.probs);
    const before = tf.memory().numTensors;
    const sam = probed(u, list, null);
    const mam = probed(u, list, mem);
    expect(tf.memory().numTensors).toBe(before);
    expect(sam.without).toBeNull();
    expect(maxDiff(sam.probs, refSam)).toBeLessThanOrEqual(1e-6);
    expect(maxDiff(mam.probs, refMam)).toBeLessThanOrEqual(1e-6);
    expect(maxDiff(mam.without as Float32Array, refSam)).toBeLessThanOrEqual(1e-6);
    expect(maxDiff(mam.without as Float32Array, sam.probs)).toBe(0);
    // The memory changes the weights (else the comparison above proves nothing).
    expect(maxDiff(refMam, refSam)).toBeGreaterThan(1e-2);
    const N = w * w;
    for (let row = 0; row < mam.probs.length / N; row++) {
      let sum = 0;
      for (let j = 0; j < N; j++) sum += mam.probs[row * N + j];
      expect(Math.abs(sum - 1)).toBeLessThan(1e-5);
    }
    list.forEach((t) => t.dispose());
  });
});

describe('pixelMaps on a compiled graph', () => {
  const compile = (doc: GraphDoc, seed = 3) => {
    const p = planGraph(doc, catalogue, kernels);
    if (!p.ok) throw new Error(p.errors[0].message);
    return CompiledModel.create(p.plan, { seed });
  };
  const image = () => {
    const rng = new Rng(9);
    return tf.tensor4d(Float32Array.from(rng.array(16 * 16, 1)), [1, 16, 16, 1]);
  };

  it('rows sum to 1, the shifted unit reads the hand-derived window, memory removed equals the SAM graph', () => {
    const mamDoc = tinyGraph();
    const mam = compile(mamDoc);
    const x = image();
    // The first forward builds the model's kept constants (shift masks, bias index
    // matrices); after that a call must leave the tensor count as it was.
    pixelMaps(mam, x, [0, 0]);
    const before = tf.memory().numTensors;
    // Pixel (1, 1) with patch 2 is token (0, 0): unit 0 (shift 0) window 0 slot 0; unit 1 (shift 2) window 3 slot 10.
    const maps = pixelMaps(mam, x, [1, 1]);
    expect(tf.memory().numTensors).toBe(before);
    expect(maps.units.map((u) => [u.id, u.shift, u.at.window, u.at.slot, u.scale])).toEqual([
      ['layers.0.blocks.0', 0, 0, 0, [2, 2]],
      ['layers.0.blocks.1', 2, 3, 10, [2, 2]],
    ]);
    for (const u of maps.units)
      for (const h of u.heads)
        expect(Math.abs(h.attention.reduce((a, b) => a + b, 0) - 1)).toBeLessThan(1e-5);
    const [u0, u1] = maps.units;
    expect(u0.heads[0].withoutMemory).toBeUndefined(); // the chain's first unit has no memory in
    const h1 = u1.heads[0];
    expect(
      h1.difference?.map((d, j) => d - (h1.attention[j] - (h1.withoutMemory as number[])[j])),
    ).toEqual(new Array(16).fill(0));
    expect(Math.abs((h1.withoutMemory as number[]).reduce((a, b) => a + b, 0) - 1)).toBeLessThan(
      1e-5,
    );

    // The same weights as a SAM graph: the first unit sees the same input, so the same maps.
    const r = convertToSam(mamDoc, 'network', catalogue);
    if ('error' in r) throw new Error(r.error);
    const sam = compile(r.commands.reduce(applyCommand, mamDoc), 99);
    expect(loadWeights(sam, saveWeights(mam), 'mam').ok).toBe(true);
    const samMaps = pixelMaps(sam, x, [1, 1]);
    expect(samMaps.units[0].heads.map((h) => h.attention)).toEqual(
      u0.heads.map((h) => h.attention),
    );
    expect(samMaps.units[0].memoryNorm).toBeUndefined();
    sam.dispose();

    // ‖m‖ back on the grid: unit 0's q̂ = q is the same in window and spatial layout, only ordered differently.
    const s = convertToMam(
      mamDoc,
      { scope: 'network', strategy: 'STS', layout: 'spatial' },
      catalogue,
    );
    if ('error' in s) throw new Error(s.error);
    const spatial = compile(s.commands.reduce(applyCommand, mamDoc), 99);
    expect(loadWeights(spatial, saveWeights(mam), 'mam').ok).toBe(true);
    const sp = pixelMaps(spatial, x, [1, 1]).units[0].memoryNorm as number[];
    const wn = u0.memoryNorm as number[];
    expect(sp).toHaveLength(64);
    expect(Math.max(...wn.map((v, i) => Math.abs(v - sp[i])))).toBeLessThan(1e-5);
    // and not in window order: window 0 slot 4 is grid token (1, 0) = 8, not 4
    expect(wn[4]).not.toBeCloseTo(wn[8], 3);
    spatial.dispose();
    mam.dispose();
    x.dispose();
  });

  it('a pixel outside the image is refused, naming it', () => {
    const mam = compile(tinyGraph());
    const x = image();
    expect(() => pixelMaps(mam, x, [16, 0])).toThrow('pixel 16,0 is outside the 16×16 input');
    mam.dispose();
    x.dispose();
  });
});
