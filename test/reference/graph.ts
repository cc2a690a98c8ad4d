/**
 * Float64 executor of a whole graph document, built from the plain-loop
 * reference ops (attention.ts, ops.ts). It walks the compiler's plan order
 * but reads everything else itself: node parameters, links (memory links
 * included), the memory layout of each unit and the windows the memory
 * resampling nodes read and write with (found by following the memory links,
 * not from the plan's `memoryWindowOut`). Weights come as a PyTorch-layout
 * state dict (`<node id>.<weight name>` → values), e.g. the compiled model's
 * `stateDict()`; convs are used as convs, Linear weights are transposed here.
 *
 * Nothing here uses tfjs.
 */
import type { Plan } from '../../src/compile/plan.ts';
import type { GraphDoc, PortRef } from '../../src/graph/types.ts';
import {
  globalPlan,
  refBlockForward,
  windowPlan,
  type Layout,
  type RefBlock,
} from './attention.ts';
import { layerNormRows, type F64 } from './math.ts';
import {
  refExpanding,
  refLinearSkip,
  refMemoryExpanding,
  refMemoryMerging,
  refPatchEmbed,
  refPatchMerging,
  refSegHead,
} from './ops.ts';

export interface RefTensor {
  data: F64;
  shape: number[];
}

/** PyTorch-layout weights by module key (`layers.0.blocks.1.attn.qkv.weight`). */
export type RefState = Map<string, RefTensor>;

export interface RefGraphResult {
  /** NHWC logits `[B, H, W, classes]` */
  logits: F64;
  shape: number[];
  /** every port's value, keyed `node:port` (memory in its chain's layout) */
  ports: Map<string, F64>;
}

/** PyTorch Linear `[out, in]` → `[in, out]`. */
export function transposeLinear(t: RefTensor): F64 {
  const [o, i] = t.shape;
  const y = new Float64Array(o * i);
  for (let r = 0; r < o; r++) for (let c = 0; c < i; c++) y[c * o + r] = t.data[r * i + c];
  return y;
}

const key = (r: PortRef): string => `${r.node}:${r.port}`;

/** Effective window of a windowed unit on an H×W grid (MAM-SPEC.md §1). */
const effWindow = (window: number, H: number, W: number): number => Math.min(window, H, W);

export function refGraphForward(
  doc: GraphDoc,
  plan: Plan,
  state: RefState,
  x: F64,
  B: number,
): RefGraphResult {
  const nodes = new Map(doc.nodes.map((n) => [n.id, n]));
  const feed = new Map<string, PortRef>(
    doc.links.map((l) => [`${l.to.node}:${l.to.port}`, l.from]),
  );
  const memNext = new Map<string, string>();
  for (const l of doc.links) if (l.from.port === 'memOut') memNext.set(l.from.node, l.to.node);
  const isUnit = (type: string) => type === 'mam-swin-block' || type === 'mam-vit-block';

  const ports = new Map<string, F64>();
  const W = (node: string, name: string): RefTensor => {
    const t = state.get(`${node}.${name}`);
    if (!t) throw new Error(`reference: no weight ${node}.${name}`);
    return t;
  };
  const input = (node: string, port: string): F64 => {
    const from = feed.get(`${node}:${port}`);
    if (!from) throw new Error(`reference: ${node}.${port} is not connected`);
    const v = ports.get(key(from));
    if (!v) throw new Error(`reference: ${key(from)} has no value yet`);
    return v;
  };
  const optionalInput = (node: string, port: string): F64 | null =>
    feed.has(`${node}:${port}`) ? input(node, port) : null;
  /** Token grid of the value feeding a port (from the plan's inferred shapes). */
  const gridIn = (id: string, port: string): { H: number; W: number; C: number } => {
    const s = plan.steps.find((st) => st.id === id)!.inShapes[port];
    if (!s || (s.kind !== 'tokens' && s.kind !== 'memory'))
      throw new Error(`reference: ${id}.${port} has no token shape`);
    return { H: s.grid[0], W: s.grid[1], C: s.channels };
  };
  /** Window a resampler writes with: the first unit downstream on its chain (nominal window). */
  const readerWindow = (id: string): number => {
    for (let cur = memNext.get(id); cur; cur = memNext.get(cur)) {
      const n = nodes.get(cur)!;
      if (isUnit(n.type)) return n.type === 'mam-vit-block' ? 0 : Number(n.params.window);
    }
    return 0;
  };
  /** Window a resampler reads with: the unit that wrote its input (or, after another resampler, its own output window). */
  const writerWindow = (id: string): number => {
    const from = feed.get(`${id}:memIn`)!;
    const n = nodes.get(from.node)!;
    if (n.type === 'mam-swin-block') return Number(n.params.window);
    if (n.type === 'mam-vit-block') return 0;
    return readerWindow(id);
  };
  const layoutOf = (id: string): Layout => {
    // a resampler's layout is its chain's: that of the unit upstream (or downstream)
    for (let cur: string | undefined = id; cur; cur = feed.get(`${cur}:memIn`)?.node) {
      const n = nodes.get(cur)!;
      if (isUnit(n.type)) return n.params.memoryLayout as Layout;
    }
    for (let cur = memNext.get(id); cur; cur = memNext.get(cur)) {
      const n = nodes.get(cur)!;
      if (isUnit(n.type)) return n.params.memoryLayout as Layout;
    }
    return 'window';
  };

  let logits: F64 | null = null;
  let logitsShape: number[] = [];
  for (const step of plan.steps) {
    const id = step.id;
    const node = nodes.get(id)!;
    const p = node.params;
    const set = (port: string, v: F64) => ports.set(`${id}:${port}`, v);
    switch (node.type) {
      case 'image-input':
        set('out', x);
        break;
      case 'patch-embed': {
        const s = step.inShapes.in!;
        if (s.kind !== 'image') throw new Error('reference: patch embed without an image');
        const [H, Wd] = s.spatial;
        const pw = W(id, 'proj.weight');
        const norm = p.norm
          ? { w: W(id, 'norm.weight').data, b: W(id, 'norm.bias').data }
          : undefined;
        set(
          'out',
          refPatchEmbed(
            input(id, 'in'),
            B,
            H,
            Wd,
            s.channels,
            pw.data,
            W(id, 'proj.bias').data,
            pw.shape[0],
            Number(p.patchSize),
            norm,
          ),
        );
        break;
      }
      case 'position-embedding': {
        const t = W(id, 'pos_embed').data;
        const v = input(id, 'in');
        set(
          'out',
          v.map((a, i) => a + t[i % t.length]),
        );
        break;
      }
      case 'swin-block':
      case 'mam-swin-block':
      case 'vit-block':
      case 'mam-vit-block': {
        const { H, W: Wd, C } = gridIn(id, 'in');
        const windowed = node.type.includes('swin');
        const heads = Number(p.heads);
        const hidden = W(id, 'mlp.fc1.weight').shape[0];
        const qkvB = state.get(`${id}.attn.qkv.bias`)?.data ?? new Float64Array(3 * C);
        const block: RefBlock = {
          C,
          hidden,
          n1w: W(id, 'norm1.weight').data,
          n1b: W(id, 'norm1.bias').data,
          attn: {
            C,
            heads,
            qkvW: transposeLinear(W(id, 'attn.qkv.weight')),
            qkvB,
            projW: transposeLinear(W(id, 'attn.proj.weight')),
            projB: W(id, 'attn.proj.bias').data,
            table: windowed ? W(id, 'attn.relative_position_bias_table').data : null,
          },
          n2w: W(id, 'norm2.weight').data,
          n2b: W(id, 'norm2.bias').data,
          fc1W: transposeLinear(W(id, 'mlp.fc1.weight')),
          fc1B: W(id, 'mlp.fc1.bias').data,
          fc2W: transposeLinear(W(id, 'mlp.fc2.weight')),
          fc2B: W(id, 'mlp.fc2.bias').data,
        };
        const wp = windowed
          ? windowPlan(H, Wd, Number(p.window), Number(p.shift))
          : globalPlan(H * Wd);
        const unit = isUnit(node.type);
        const layout = unit ? (p.memoryLayout as Layout) : 'window';
        const r = refBlockForward(
          input(id, 'in'),
          B,
          block,
          wp,
          unit ? optionalInput(id, 'memIn') : null,
          layout,
        );
        set('out', r.y);
        if (unit) set('memOut', r.memOut);
        break;
      }
      case 'patch-merging': {
        const { H, W: Wd, C } = gridIn(id, 'in');
        set(
          'out',
          refPatchMerging(
            input(id, 'in'),
            B,
            H,
            Wd,
            C,
            W(id, 'norm.weight').data,
            W(id, 'norm.bias').data,
            transposeLinear(W(id, 'reduction.weight')),
          ),
        );
        break;
      }
      case 'patch-expanding':
      case 'final-expanding': {
        const { H, W: Wd, C } = gridIn(id, 'in');
        const r = node.type === 'patch-expanding' ? 2 : Number(p.scale);
        const we = W(id, 'expand.weight');
        set(
          'out',
          refExpanding(
            input(id, 'in'),
            B,
            H,
            Wd,
            C,
            transposeLinear(we),
            we.shape[0],
            r,
            W(id, 'norm.weight').data,
            W(id, 'norm.bias').data,
          ),
        );
        break;
      }
      case 'memory-merging': {
        const { H, W: Wd, C } = gridIn(id, 'memIn');
        const wIn = writerWindow(id) || effWindow(readerWindow(id), H / 2, Wd / 2);
        set(
          'memOut',
          refMemoryMerging(
            input(id, 'memIn'),
            B,
            H,
            Wd,
            C,
            p.mode as 'conv' | 'avg' | 'max',
            layoutOf(id),
            wIn,
            readerWindow(id),
            W(id, 'norm.weight').data,
            W(id, 'norm.bias').data,
            W(id, 'reduction.weight').data,
          ),
        );
        break;
      }
      case 'memory-expanding': {
        const { H, W: Wd, C } = gridIn(id, 'memIn');
        const wIn = writerWindow(id) || effWindow(readerWindow(id), 2 * H, 2 * Wd);
        set(
          'memOut',
          refMemoryExpanding(
            input(id, 'memIn'),
            B,
            H,
            Wd,
            C,
            layoutOf(id),
            wIn,
            readerWindow(id),
            transposeLinear(W(id, 'expand.weight')),
            W(id, 'norm.weight').data,
            W(id, 'norm.bias').data,
          ),
        );
        break;
      }
      case 'skip': {
        const { H, W: Wd, C } = gridIn(id, 'decoder');
        set(
          'out',
          refLinearSkip(
            input(id, 'decoder'),
            input(id, 'encoder'),
            B * H * Wd,
            C,
            transposeLinear(W(id, 'weight')),
            W(id, 'bias').data,
          ),
        );
        break;
      }
      case 'layer-norm': {
        const { H, W: Wd, C } = gridIn(id, 'in');
        set(
          'out',
          layerNormRows(input(id, 'in'), B * H * Wd, C, W(id, 'weight').data, W(id, 'bias').data),
        );
        break;
      }
      case 'seg-head': {
        const { H, W: Wd, C } = gridIn(id, 'in');
        const k = Number(p.classes);
        set('out', refSegHead(input(id, 'in'), B * H * Wd, C, W(id, 'weight').data, k));
        logitsShape = [B, H, Wd, k];
        break;
      }
      case 'output':
        logits = input(id, 'logits');
        break;
      default:
        throw new Error(`reference: no reference for node kind ${node.type}`);
    }
  }
  if (!logits) throw new Error('reference: the graph has no output');
  return { logits, shape: logitsShape, ports };
}
