/**
 * The ImageNet-21k R50+ViT-B_16 checkpoint (JAX names, HWIO / (in, out)
 * kernels, an .npz) as a PyTorch-layout state dict for DA-TransUNet
 * (DA-TRANSUNET-MAM-SPEC.md §f), which then imports by name like any other.
 * The position table: equal shapes copy; one extra token (the class token)
 * is dropped (197 → 196); otherwise the class token is dropped and the grid
 * resampled like scipy.ndimage.zoom(order=1) to the model's grid.
 */
import type { NpyArray } from '../data/npy.ts';
import { zoomArray } from '../data/zoom.ts';
import type { SafeTensor, SafetensorsFile } from './io/safetensors.ts';

const EMB = 'transformer.embeddings';
const HYBRID = `${EMB}.hybrid_model`;

export interface NpzMapping {
  /** The state dict the npz gives, PyTorch layout, float32. */
  file: SafetensorsFile;
  /** npz entries not used by the reference's loader (`cls`, `head/*`, `pre_logits/*`). */
  ignored: string[];
  /** npz entries neither mapped nor known to be ignored. */
  unknown: string[];
}

const f32 = (a: NpyArray) => (a.data instanceof Float32Array ? a.data : Float32Array.from(a.data));

const tensor = (data: Float32Array, shape: number[]): SafeTensor => ({
  dtype: 'F32',
  shape,
  bytes: new Uint8Array(data.buffer, data.byteOffset, data.byteLength),
});

/** `[r, c]` → `[c, r]`. */
function transpose(a: Float32Array, r: number, c: number): Float32Array {
  const out = new Float32Array(a.length);
  for (let i = 0; i < r; i++) for (let j = 0; j < c; j++) out[j * r + i] = a[i * c + j];
  return out;
}

/** HWIO → OIHW (numpy's transpose(3, 2, 0, 1)). */
function hwioToOihw(a: Float32Array, [H, W, I, O]: number[]): SafeTensor {
  const out = new Float32Array(a.length);
  for (let h = 0; h < H; h++)
    for (let w = 0; w < W; w++)
      for (let i = 0; i < I; i++)
        for (let o = 0; o < O; o++)
          out[((o * I + i) * H + h) * W + w] = a[((h * W + w) * I + i) * O + o];
  return tensor(out, [O, I, H, W]);
}

/** A kernel of any shape read as `[in, out]` with `inDims` leading axes, as a Linear weight `[out, in]`. */
function linearKernel(a: NpyArray, inDims: number): SafeTensor {
  const nIn = a.shape.slice(0, inDims).reduce((x, y) => x * y, 1);
  const nOut = a.data.length / nIn;
  return tensor(transpose(f32(a), nIn, nOut), [nOut, nIn]);
}

const flat = (a: NpyArray): SafeTensor => tensor(f32(a), [a.data.length]);

/**
 * The position table `[1, L, C]` for a model table of `L` tokens (a square
 * grid): copy, drop the class token, or drop it and zoom the grid (order 1).
 */
export function positionTable(a: NpyArray, L: number): SafeTensor {
  const [, n, C] = a.shape;
  const data = f32(a);
  if (n === L) return tensor(data, [1, L, C]);
  const tokens = data.subarray(C); // without the class token
  if (n === L + 1) return tensor(Float32Array.from(tokens), [1, L, C]);
  const gOld = Math.round(Math.sqrt(n - 1));
  const gNew = Math.round(Math.sqrt(L));
  if (gOld * gOld !== n - 1 || gNew * gNew !== L)
    throw new Error(
      `position table of ${n} tokens cannot be resampled to ${L}: grids must be square`,
    );
  const z = zoomArray(tokens, [gOld, gOld, C], [gNew, gNew, C], 1);
  return tensor(Float32Array.from(z), [1, L, C]);
}

/** Maps the npz's arrays to the reference state-dict names; `positions` is the model's token count. */
export function mapR50VitNpz(arrays: Record<string, NpyArray>, positions: number): NpzMapping {
  const out = new Map<string, SafeTensor>();
  const used = new Set<string>();
  const take = (key: string, name: string, convert: (a: NpyArray) => SafeTensor) => {
    const a = arrays[key];
    if (!a) return;
    out.set(name, convert(a));
    used.add(key);
  };
  const hwio = (a: NpyArray) => hwioToOihw(f32(a), a.shape);

  take('embedding/kernel', `${EMB}.patch_embeddings.weight`, hwio);
  take('embedding/bias', `${EMB}.patch_embeddings.bias`, flat);
  take('Transformer/posembed_input/pos_embedding', `${EMB}.position_embeddings`, (a) =>
    positionTable(a, positions),
  );
  for (const [jax, ours] of [
    ['scale', 'weight'],
    ['bias', 'bias'],
  ]) {
    take(`Transformer/encoder_norm/${jax}`, `transformer.encoder.encoder_norm.${ours}`, flat);
    take(`gn_root/${jax}`, `${HYBRID}.root.gn.${ours}`, flat);
  }
  take('conv_root/kernel', `${HYBRID}.root.conv.weight`, hwio);

  for (const key of Object.keys(arrays)) {
    const block = /^Transformer\/encoderblock_(\d+)\/(.*)$/.exec(key);
    if (block) {
      const layer = `transformer.encoder.layer.${block[1]}`;
      const rest = block[2];
      const attn = /^MultiHeadDotProductAttention_1\/(query|key|value|out)\/(kernel|bias)$/.exec(
        rest,
      );
      const mlp = /^MlpBlock_3\/Dense_([01])\/(kernel|bias)$/.exec(rest);
      const ln = /^LayerNorm_([02])\/(scale|bias)$/.exec(rest);
      if (attn) {
        const [, part, what] = attn;
        const name = `${layer}.attn.${part}.${what === 'kernel' ? 'weight' : 'bias'}`;
        // q/k/v kernels are (in, heads, d), out's is (heads, d, out)
        take(key, name, (a) =>
          what === 'bias' ? flat(a) : linearKernel(a, part === 'out' ? 2 : 1),
        );
      } else if (mlp) {
        const name = `${layer}.ffn.fc${Number(mlp[1]) + 1}.${mlp[2] === 'kernel' ? 'weight' : 'bias'}`;
        take(key, name, (a) => (mlp[2] === 'kernel' ? linearKernel(a, 1) : flat(a)));
      } else if (ln) {
        const norm = ln[1] === '0' ? 'attention_norm' : 'ffn_norm';
        take(key, `${layer}.${norm}.${ln[2] === 'scale' ? 'weight' : 'bias'}`, flat);
      }
      continue;
    }
    const unit =
      /^block(\d+)\/unit(\d+)\/(conv[123]|gn[123]|conv_proj|gn_proj)\/(kernel|scale|bias)$/.exec(
        key,
      );
    if (unit) {
      const [, b, u, mod, what] = unit;
      const prefix = `${HYBRID}.body.block${b}.unit${u}`;
      if (what === 'kernel')
        take(key, `${prefix}.${mod === 'conv_proj' ? 'downsample' : mod}.weight`, hwio);
      else take(key, `${prefix}.${mod}.${what === 'scale' ? 'weight' : 'bias'}`, flat);
    }
  }
  const rest = Object.keys(arrays).filter((k) => !used.has(k));
  const isIgnored = (k: string) =>
    k === 'cls' || k.startsWith('head/') || k.startsWith('pre_logits/');
  return {
    file: { tensors: out, metadata: {} },
    ignored: rest.filter(isIgnored),
    unknown: rest.filter((k) => !isIgnored(k)),
  };
}
