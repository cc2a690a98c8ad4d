/**
 * Seeded initialisation exactly as the reference code does it (MAM-SPEC.md
 * section 5): Linear weights and bias tables normal(0, 0.02) truncated at ±2
 * absolute (in effect untruncated), biases 0, LayerNorm 1/0, convs of Patch
 * Embed, head and memory merging PyTorch's default uniform ±1/√fan_in.
 *
 * Values come from our own PRNG (not tfjs's), seeded per weight by its full
 * name, so a weight's initial value depends only on the seed and its name:
 * the same on every backend, and unchanged by adding or reordering nodes.
 */
import type { WeightSpec } from '../graph/node-kind.ts';

/** 32-bit FNV-1a of a string. */
export function hashString(s: string, seed = 0x811c9dc5): number {
  let h = seed >>> 0;
  for (let i = 0; i < s.length; i++) {
    h ^= s.charCodeAt(i);
    h = Math.imul(h, 0x01000193) >>> 0;
  }
  return h >>> 0;
}

/** mulberry32: small, fast, good enough for initialisation and augmentation. */
export function rng(seed: number): () => number {
  let a = seed >>> 0;
  return () => {
    a = (a + 0x6d2b79f5) >>> 0;
    let t = a;
    t = Math.imul(t ^ (t >>> 15), t | 1);
    t ^= t + Math.imul(t ^ (t >>> 7), t | 61);
    return ((t ^ (t >>> 14)) >>> 0) / 4294967296;
  };
}

/** Standard normal by Box–Muller. */
export function gaussian(rand: () => number): () => number {
  let spare: number | undefined;
  return () => {
    if (spare !== undefined) {
      const s = spare;
      spare = undefined;
      return s;
    }
    let u = 0;
    while (u === 0) u = rand();
    const v = rand();
    const r = Math.sqrt(-2 * Math.log(u));
    spare = r * Math.sin(2 * Math.PI * v);
    return r * Math.cos(2 * Math.PI * v);
  };
}

export const INIT_STD = 0.02;
export const TRUNC_ABS = 2;

/** Initial values of one weight, in PyTorch layout (row-major over spec.shape). */
export function initialValues(spec: WeightSpec, key: string, seed: number): Float32Array {
  const n = spec.shape.reduce((a, b) => a * b, 1);
  const out = new Float32Array(n);
  const rand = rng(hashString(key, hashString(String(seed))));
  switch (spec.init) {
    case 'zeros':
      return out;
    case 'ones':
      return out.fill(1);
    case 'trunc-normal': {
      const g = gaussian(rand);
      for (let i = 0; i < n; i++) {
        let x = g() * INIT_STD;
        while (x < -TRUNC_ABS || x > TRUNC_ABS) x = g() * INIT_STD; // as timm: bounds in absolute units
        out[i] = x;
      }
      return out;
    }
    case 'conv-uniform': {
      const bound = 1 / Math.sqrt(spec.fanIn ?? 1);
      for (let i = 0; i < n; i++) out[i] = (rand() * 2 - 1) * bound;
      return out;
    }
  }
}
