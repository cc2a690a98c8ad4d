/**
 * TransUNet's ViT block, SAM and MAM (DA-TRANSUNET-MAM-SPEC.md §c.5): the
 * same block as ViT's (shape rule, params, MACs, memory contract: memory is
 * added to the full-width query before the head split), with the reference's
 * weight names (separate query/key/value/out, attention_norm, ffn_norm, ffn)
 * and LayerNorm eps 1e-6.
 */
import {
  type InferContext,
  type InferResult,
  type ParamSpec,
  type WeightSpec,
} from '../../src/graph/node-kind.ts';
import { blockParams, inferBlock } from './transformer.ts';

export const dropoutParam: ParamSpec = {
  name: 'dropout',
  label: 'Dropout',
  type: 'float',
  default: 0.1,
  min: 0,
  max: 0.95,
  help: 'Dropout rate in training; off in evaluation.',
};

/** ViT params, dropout instead of drop-path (TransUNet's MLP dropout). */
export const transUnetParams: ParamSpec[] = [
  ...blockParams.filter((p) => p.name !== 'dropPath'),
  dropoutParam,
];

const RENAMES: [string, string][] = [
  ['norm1.', 'attention_norm.'],
  ['attn.proj.', 'attn.out.'],
  ['norm2.', 'ffn_norm.'],
  ['mlp.', 'ffn.'],
];

/** ViT weights under the reference's names; the fused qkv splits into query, key, value. */
function renamed(weights: WeightSpec[]): WeightSpec[] {
  return weights.flatMap((w) => {
    if (w.name.startsWith('attn.qkv.')) {
      const leaf = w.name.slice('attn.qkv.'.length);
      const c = w.shape[0] / 3;
      return ['query', 'key', 'value'].map((part) => ({
        ...w,
        name: `attn.${part}.${leaf}`,
        shape: [c, ...w.shape.slice(1)],
      }));
    }
    const r = RENAMES.find(([from]) => w.name.startsWith(from));
    return [r ? { ...w, name: r[1] + w.name.slice(r[0].length) } : w];
  });
}

export function inferTransUnetBlock(ctx: InferContext, withMemory: boolean): InferResult {
  const r = inferBlock(ctx, 'global', withMemory);
  return { ...r, weights: renamed(r.weights) };
}
