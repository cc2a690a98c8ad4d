/**
 * Segmentation metrics under two named conventions (MAM-SPEC.md section 5):
 *
 * "synapse" (default; the paper's numbers): per class c ≥ 1, P = pred==c, G = gt==c
 *   |P|>0 & |G|>0: Dice = 2|P∩G|/(|P|+|G|), HD95 = medpy hd95 (pooled distances of both
 *                  directions, unit spacing, so "mm" is voxels)
 *   |P|>0 only:    Dice = 1, HD95 = 0
 *   otherwise:     Dice = 0, HD95 = 0 (both empty included)
 *   means keep every value.
 * "monai": Dice NaN when G is empty; HD95 = max of the two directed 95th percentiles in mm
 *   from the spacing; HD95 inf when exactly one mask is empty, NaN when both are;
 *   means skip NaN (an inf stays inf).
 * Results are keyed by class name and every result carries its convention.
 */
import { squaredDistanceTransform, stridesOf, surfaceOf } from './metrics-distance.ts';

export type MetricConvention = 'synapse' | 'monai';

/** Which emptiness case a class fell into in one volume. */
export type EmptyRule = 'both' | 'predOnly' | 'gtOnly' | 'bothEmpty';

export const EMPTY_RULES: readonly EmptyRule[] = ['both', 'predOnly', 'gtOnly', 'bothEmpty'];

export interface ClassScore {
  dice: number;
  hd95: number;
  rule: EmptyRule;
  predVoxels: number;
  gtVoxels: number;
}

export interface VolumeScores {
  convention: MetricConvention;
  caseId: string;
  /** 'voxel' for synapse (unit spacing), 'mm' for monai. */
  hd95Unit: 'voxel' | 'mm';
  /** Class name → score, classes 1.. in label order (background excluded). */
  perClass: Record<string, ClassScore>;
}

export interface ClassSummary {
  dice: number;
  hd95: number;
  /** Volumes counted in the Dice / HD95 means. */
  nDice: number;
  nHd95: number;
  rules: Record<EmptyRule, number>;
}

export interface MetricsSummary {
  convention: MetricConvention;
  hd95Unit: 'voxel' | 'mm';
  volumes: number;
  perClass: Record<string, ClassSummary>;
  /** Mean over classes of the per-class means. */
  meanDice: number;
  meanHd95: number;
}

export interface EvaluateOptions {
  convention?: MetricConvention;
  /** Voxel spacing in the order of `shape` (used by monai; synapse uses unit spacing). */
  spacing?: number[];
  caseId?: string;
}

/** numpy.percentile(values, q) with the default 'linear' method; NaN for no values. */
export function percentileLinear(values: Float64Array | number[], q: number): number {
  const n = values.length;
  if (n === 0) return NaN;
  const a = Float64Array.from(values).sort();
  const pos = (q / 100) * (n - 1);
  const lo = Math.floor(pos);
  const hi = Math.min(lo + 1, n - 1);
  const t = pos - lo;
  const diff = a[hi] - a[lo];
  // numpy's _lerp: computed from the nearer end for accuracy
  return t >= 0.5 ? a[hi] - diff * (1 - t) : a[lo] + diff * t;
}

/** medpy.metric.binary.dc: 2|A∩B|/(|A|+|B|), 0 when both are empty. */
export function diceCoefficient(a: ArrayLike<number>, b: ArrayLike<number>): number {
  let inter = 0;
  let na = 0;
  let nb = 0;
  for (let i = 0; i < a.length; i++) {
    const x = a[i] ? 1 : 0;
    const y = b[i] ? 1 : 0;
    na += x;
    nb += y;
    inter += x & y;
  }
  return na + nb === 0 ? 0 : (2 * inter) / (na + nb);
}

interface Crop {
  a: Uint8Array;
  b: Uint8Array;
  shape: number[];
}

interface Box {
  lo: number[];
  hi: number[];
}

/**
 * Bounding boxes of the voxels where `select(value)` holds, per key, scanning row by row
 * (the last axis is a row) so the per-voxel work is one comparison.
 */
function boxesOf(
  data: ArrayLike<number>,
  shape: readonly number[],
  keyOf: (v: number) => number,
  nKeys: number,
): (Box | null)[] {
  const nd = shape.length;
  const inner = shape[nd - 1];
  const rows = inner === 0 ? 0 : data.length / inner;
  const boxes: (Box | null)[] = new Array(nKeys).fill(null);
  const rowLo = new Int32Array(nKeys);
  const rowHi = new Int32Array(nKeys);
  const seen: number[] = [];
  const coord = new Array<number>(Math.max(0, nd - 1)).fill(0);
  for (let r = 0; r < rows; r++) {
    const base = r * inner;
    seen.length = 0;
    for (let x = 0; x < inner; x++) {
      const k = keyOf(data[base + x]);
      if (k < 0) continue;
      if (!seen.includes(k)) {
        seen.push(k);
        rowLo[k] = x;
      }
      rowHi[k] = x;
    }
    if (seen.length) {
      // coordinates of this row along the leading axes
      let q = r;
      for (let a = nd - 2; a >= 0; a--) {
        coord[a] = q % shape[a];
        q = Math.floor(q / shape[a]);
      }
      for (const k of seen) {
        let b = boxes[k];
        if (!b) {
          b = { lo: [...coord, rowLo[k]], hi: [...coord, rowHi[k]] };
          boxes[k] = b;
          continue;
        }
        for (let a = 0; a < nd - 1; a++) {
          if (coord[a] < b.lo[a]) b.lo[a] = coord[a];
          if (coord[a] > b.hi[a]) b.hi[a] = coord[a];
        }
        if (rowLo[k] < b.lo[nd - 1]) b.lo[nd - 1] = rowLo[k];
        if (rowHi[k] > b.hi[nd - 1]) b.hi[nd - 1] = rowHi[k];
      }
    }
  }
  return boxes;
}

function unionBox(a: Box | null, b: Box | null): Box | null {
  if (!a) return b;
  if (!b) return a;
  return {
    lo: a.lo.map((x, k) => Math.min(x, b.lo[k])),
    hi: a.hi.map((x, k) => Math.max(x, b.hi[k])),
  };
}

/** Copy the box of two arrays into masks `test(value)`, row by row. */
function cropMasks(
  a: ArrayLike<number>,
  b: ArrayLike<number>,
  shape: readonly number[],
  box: Box,
  testA: (v: number) => boolean,
  testB: (v: number) => boolean,
): Crop {
  const nd = shape.length;
  const cshape = box.lo.map((l, k) => box.hi[k] - l + 1);
  const n = cshape.reduce((x, y) => x * y, 1);
  const ca = new Uint8Array(n);
  const cb = new Uint8Array(n);
  const strides = stridesOf(shape);
  const inner = cshape[nd - 1];
  const rows = n / inner;
  const coord = new Array<number>(nd - 1).fill(0);
  for (let r = 0; r < rows; r++) {
    let q = r;
    let src = box.lo[nd - 1];
    for (let k = nd - 2; k >= 0; k--) {
      coord[k] = q % cshape[k];
      q = Math.floor(q / cshape[k]);
      src += (coord[k] + box.lo[k]) * strides[k];
    }
    const dst = r * inner;
    for (let x = 0; x < inner; x++) {
      ca[dst + x] = testA(a[src + x]) ? 1 : 0;
      cb[dst + x] = testB(b[src + x]) ? 1 : 0;
    }
  }
  return { a: ca, b: cb, shape: cshape };
}

/** Both masks cropped to the bounding box of their union (distances are unchanged by it). */
function cropToUnion(
  a: ArrayLike<number>,
  b: ArrayLike<number>,
  shape: readonly number[],
): Crop | null {
  const nz = (v: number) => (v ? 0 : -1);
  const box = unionBox(boxesOf(a, shape, nz, 1)[0], boxesOf(b, shape, nz, 1)[0]);
  if (!box) return null;
  return cropMasks(a, b, shape, box, Boolean, Boolean);
}

/** Distances from every surface voxel of `a` to the surface of `b`, and the reverse. */
export function surfaceDistances(
  a: ArrayLike<number>,
  b: ArrayLike<number>,
  shape: readonly number[],
  spacing: readonly number[] = shape.map(() => 1),
): { aToB: Float64Array; bToA: Float64Array } {
  const crop = cropToUnion(a, b, shape);
  if (!crop) return { aToB: new Float64Array(0), bToA: new Float64Array(0) };
  const sa = surfaceOf(crop.a, crop.shape);
  const sb = surfaceOf(crop.b, crop.shape);
  const da = squaredDistanceTransform(sb, crop.shape, spacing);
  const db = squaredDistanceTransform(sa, crop.shape, spacing);
  const gather = (surf: Uint8Array, d2: Float64Array) => {
    let m = 0;
    for (let i = 0; i < surf.length; i++) m += surf[i];
    const out = new Float64Array(m);
    let j = 0;
    for (let i = 0; i < surf.length; i++) if (surf[i]) out[j++] = Math.sqrt(d2[i]);
    return out;
  };
  return { aToB: gather(sa, da), bToA: gather(sb, db) };
}

/** An HD95 from both directions' surface distances (`reduce`); NaN if a mask is empty. */
const hd95By =
  (reduce: (aToB: Float64Array, bToA: Float64Array) => number) =>
  (
    a: ArrayLike<number>,
    b: ArrayLike<number>,
    shape: readonly number[],
    spacing?: readonly number[],
  ): number => {
    const { aToB, bToA } = surfaceDistances(a, b, shape, spacing);
    return aToB.length === 0 || bToA.length === 0 ? NaN : reduce(aToB, bToA);
  };

/** medpy.metric.binary.hd95: the 95th percentile of both directions' surface distances pooled. NaN if a mask is empty. */
export const hd95Pooled = hd95By((aToB, bToA) => {
  const all = new Float64Array(aToB.length + bToA.length);
  all.set(aToB);
  all.set(bToA, aToB.length);
  return percentileLinear(all, 95);
});

/** MONAI's symmetric percentile Hausdorff: max of the two directed 95th percentiles. NaN if a mask is empty. */
export const hd95Symmetric = hd95By((aToB, bToA) =>
  Math.max(percentileLinear(aToB, 95), percentileLinear(bToA, 95)),
);

/** Score one class given binary masks P (prediction) and G (ground truth). */
export function scoreClass(
  p: Uint8Array,
  g: Uint8Array,
  shape: readonly number[],
  convention: MetricConvention = 'synapse',
  spacing?: readonly number[],
): ClassScore {
  let np = 0;
  let ng = 0;
  for (let i = 0; i < p.length; i++) {
    np += p[i] ? 1 : 0;
    ng += g[i] ? 1 : 0;
  }
  const rule: EmptyRule =
    np > 0 && ng > 0 ? 'both' : np > 0 ? 'predOnly' : ng > 0 ? 'gtOnly' : 'bothEmpty';
  const base = { rule, predVoxels: np, gtVoxels: ng };
  if (convention === 'synapse') {
    if (rule === 'both')
      return { ...base, dice: diceCoefficient(p, g), hd95: hd95Pooled(p, g, shape) };
    if (rule === 'predOnly') return { ...base, dice: 1, hd95: 0 };
    return { ...base, dice: 0, hd95: 0 };
  }
  switch (rule) {
    case 'both':
      return { ...base, dice: diceCoefficient(p, g), hd95: hd95Symmetric(p, g, shape, spacing) };
    case 'predOnly':
      return { ...base, dice: NaN, hd95: Infinity };
    case 'gtOnly':
      return { ...base, dice: 0, hd95: Infinity };
    case 'bothEmpty':
      return { ...base, dice: NaN, hd95: NaN };
  }
}

/**
 * Per-class scores of one volume. `pred` and `gt` are label maps in C order with NumPy
 * `shape` (slowest first; a Volume with fastest-first dims d has shape d reversed, and its
 * spacing reversed too). `classNames[0]` is background and is not scored.
 */
export function evaluateVolume(
  pred: ArrayLike<number>,
  gt: ArrayLike<number>,
  shape: readonly number[],
  classNames: readonly string[],
  opts: EvaluateOptions = {},
): VolumeScores {
  const convention = opts.convention ?? 'synapse';
  const n = shape.reduce((a, b) => a * b, 1);
  if (pred.length !== n || gt.length !== n) {
    throw new Error(
      `evaluateVolume: pred ${pred.length} / gt ${gt.length} values for shape ${shape.join('×')}`,
    );
  }
  const spacing = opts.spacing ?? shape.map(() => 1);
  const perClass: Record<string, ClassScore> = {};
  const nc = classNames.length;
  const key = (v: number) => (v >= 1 && v < nc && Number.isInteger(v) ? v : -1);
  const pBoxes = boxesOf(pred, shape, key, nc);
  const gBoxes = boxesOf(gt, shape, key, nc);
  for (let c = 1; c < nc; c++) {
    const box = unionBox(pBoxes[c], gBoxes[c]);
    const is = (v: number) => v === c;
    // Only the union box of P and G matters: outside it both are background.
    const crop = box
      ? cropMasks(pred, gt, shape, box, is, is)
      : { a: new Uint8Array(0), b: new Uint8Array(0), shape: shape.map(() => 0) };
    perClass[classNames[c]] = scoreClass(
      crop.a,
      crop.b,
      crop.shape,
      convention,
      convention === 'monai' ? spacing : undefined,
    );
  }
  return {
    convention,
    caseId: opts.caseId ?? '',
    hd95Unit: convention === 'synapse' ? 'voxel' : 'mm',
    perClass,
  };
}

/** Mean over volumes per class, then over classes. Refuses to mix conventions. */
export function summarizeMetrics(volumes: readonly VolumeScores[]): MetricsSummary {
  if (volumes.length === 0) throw new Error('summarizeMetrics: no volumes');
  const convention = volumes[0].convention;
  if (volumes.some((v) => v.convention !== convention)) {
    throw new Error(
      'summarizeMetrics: volumes scored under different conventions cannot share a table',
    );
  }
  const names = Object.keys(volumes[0].perClass);
  const skipNaN = convention === 'monai';
  const mean = (xs: number[]) => {
    const ys = skipNaN ? xs.filter((x) => !Number.isNaN(x)) : xs;
    return { value: ys.length ? ys.reduce((a, b) => a + b, 0) / ys.length : NaN, n: ys.length };
  };
  const perClass: Record<string, ClassSummary> = {};
  for (const name of names) {
    const scores = volumes
      .map((v) => v.perClass[name])
      .filter((s): s is ClassScore => s !== undefined);
    const d = mean(scores.map((s) => s.dice));
    const h = mean(scores.map((s) => s.hd95));
    const rules = { both: 0, predOnly: 0, gtOnly: 0, bothEmpty: 0 } as Record<EmptyRule, number>;
    for (const s of scores) rules[s.rule]++;
    perClass[name] = { dice: d.value, hd95: h.value, nDice: d.n, nHd95: h.n, rules };
  }
  return {
    convention,
    hd95Unit: volumes[0].hd95Unit,
    volumes: volumes.length,
    perClass,
    meanDice: mean(names.map((n) => perClass[n].dice)).value,
    meanHd95: mean(names.map((n) => perClass[n].hd95)).value,
  };
}

function csvField(s: string): string {
  return /[",\n]/.test(s) ? `"${s.replace(/"/g, '""')}"` : s;
}

function csvNumber(x: number): string {
  if (Number.isNaN(x)) return 'NaN';
  if (x === Infinity) return 'inf';
  return String(x);
}

/** The per-case table: one row per volume and class, with the convention in every row. */
export function metricsToCsv(volumes: readonly VolumeScores[]): string {
  const rows = ['convention,case,class,dice,hd95,hd95_unit,rule,pred_voxels,gt_voxels'];
  for (const v of volumes) {
    for (const [name, s] of Object.entries(v.perClass)) {
      rows.push(
        [
          v.convention,
          csvField(v.caseId),
          csvField(name),
          csvNumber(s.dice),
          csvNumber(s.hd95),
          v.hd95Unit,
          s.rule,
          String(s.predVoxels),
          String(s.gtVoxels),
        ].join(','),
      );
    }
  }
  return rows.join('\n') + '\n';
}
