/**
 * Kernels of DA-TransUNet's transformer side: the dual attention head, the
 * map → tokens embedding, TransUNet's ViT blocks (SAM and MAM) and the
 * encoder norm back to a map.
 */
import * as tf from '#tfjs';
import { num, str, type MemoryLayout } from '../../graph/node-kind.ts';
import {
  addPositionEmbedding,
  daHead,
  dropout,
  layerNorm,
  transUnetBlock,
  TRANSUNET_LN_EPS,
  type LinearWeights,
  type TransUnetBlockWeights,
} from '../../ops/index.ts';
import { bnMode, convBnOf, saveRunning } from './cnn.ts';
import { gridOf, matrix, norm, vector } from './shared.ts';
import { recomputed, type ForwardContext, type Kernel } from './types.ts';

const linearOf = (ctx: ForwardContext, p: string): LinearWeights => ({
  weight: matrix(ctx, `${p}.weight`),
  bias: vector(ctx, `${p}.bias`),
});

function transUnetWeights(ctx: ForwardContext): TransUnetBlockWeights {
  return {
    attentionNorm: norm(ctx, 'attention_norm.'),
    query: linearOf(ctx, 'attn.query'),
    key: linearOf(ctx, 'attn.key'),
    value: linearOf(ctx, 'attn.value'),
    out: linearOf(ctx, 'attn.out'),
    ffnNorm: norm(ctx, 'ffn_norm.'),
    fc1: linearOf(ctx, 'ffn.fc1'),
    fc2: linearOf(ctx, 'ffn.fc2'),
  };
}

function forwardTransUnet(ctx: ForwardContext, withMemory: boolean): Record<string, tf.Tensor> {
  const mem = withMemory
    ? {
        in: (ctx.inputs.memIn as tf.Tensor3D | undefined) ?? null,
        layout: str(ctx.params, 'memoryLayout') as MemoryLayout,
      }
    : undefined;
  const r = transUnetBlock(
    ctx.inputs.in as tf.Tensor3D,
    transUnetWeights(ctx),
    {
      heads: num(ctx.params, 'heads'),
      dropout: { rate: num(ctx.params, 'dropout'), training: ctx.training, seed: ctx.seed },
    },
    mem,
  );
  return r.memOut ? { out: r.y, memOut: r.memOut } : { out: r.y };
}

const DA_BNS = ['conv5a', 'conv5c', 'conv51', 'conv52'] as const;

export const daKernels: Record<string, Kernel> = {
  'da-head': recomputed((ctx) => {
    const r = daHead(
      ctx.inputs.in as tf.Tensor4D,
      {
        conv5a: convBnOf(ctx, 'conv5a.'),
        conv5c: convBnOf(ctx, 'conv5c.'),
        sa: {
          query: linearOf(ctx, 'sa.query_conv'),
          key: linearOf(ctx, 'sa.key_conv'),
          value: linearOf(ctx, 'sa.value_conv'),
          gamma: ctx.weight('sa.gamma'),
        },
        scGamma: ctx.weight('sc.gamma'),
        conv51: convBnOf(ctx, 'conv51.'),
        conv52: convBnOf(ctx, 'conv52.'),
        conv8: linearOf(ctx, 'conv8.1'),
      },
      bnMode(ctx),
      { rate: num(ctx.params, 'dropout'), seed: ctx.seed },
    );
    for (const bn of DA_BNS) saveRunning(ctx, `${bn}.1.`, r.running[`${bn}.1`]);
    return { out: r.y };
  }),

  'position-embedding-map': (ctx) => {
    const x = ctx.inputs.in as tf.Tensor4D;
    const [B, H, W, C] = x.shape;
    const t = addPositionEmbedding(
      tf.reshape(x, [B, H * W, C]),
      matrix(ctx, 'position_embeddings'),
    );
    const rate = num(ctx.params, 'dropout');
    return { out: ctx.training && rate > 0 ? dropout(t, rate, ctx.seed) : t };
  },

  'transunet-block': (ctx) => forwardTransUnet(ctx, false),
  'mam-transunet-block': (ctx) => forwardTransUnet(ctx, true),

  'tokens-to-map': (ctx) => {
    const x = ctx.inputs.in as tf.Tensor3D;
    const y = layerNorm(x, norm(ctx, ''), TRANSUNET_LN_EPS);
    return { out: tf.reshape(y, [x.shape[0], ...gridOf(ctx.inShapes.in), x.shape[2]]) };
  },
};
