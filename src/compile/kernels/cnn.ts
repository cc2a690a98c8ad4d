/**
 * Kernels of the CNN kinds of DA-TransUNet (ResNetV2 root and bottleneck,
 * convolutions, pooling, padding, the CUP decoder block) on the ops of
 * src/ops/conv.ts and norm.ts. BatchNorm running statistics are state
 * weights: read by name, and written back through `ctx.updateState` in training.
 */
import * as tf from '#tfjs';
import { bool, num } from '../../graph/node-kind.ts';
import {
  conv2d,
  convBnRelu,
  groupNorm,
  maxPool2d,
  standardizeWeight,
  upsampleBilinear,
  zeroPadBottomRight,
  type BatchNormWeights,
  type BnMode,
  type ConvBnWeights,
} from '../../ops/index.ts';
import { matrix, norm, vector } from './shared.ts';
import { recomputed, type ForwardContext, type Kernel } from './types.ts';

export const bnMode = (ctx: ForwardContext): BnMode => ({
  eps: num(ctx.params, 'bnEps'),
  momentum: num(ctx.params, 'bnMomentum'),
  training: ctx.training,
});

export const batchNormOf = (ctx: ForwardContext, prefix: string): BatchNormWeights => ({
  ...norm(ctx, prefix),
  runningMean: vector(ctx, `${prefix}running_mean`),
  runningVar: vector(ctx, `${prefix}running_var`),
});

/** Conv (`<prefix>0.weight`) + BatchNorm (`<prefix>1.*`). */
export const convBnOf = (ctx: ForwardContext, prefix: string): ConvBnWeights => ({
  conv: { weight: matrix(ctx, `${prefix}0.weight`) },
  bn: batchNormOf(ctx, `${prefix}1.`),
});

/** Hands a BatchNorm's updated running statistics to the model (training only). */
export function saveRunning(
  ctx: ForwardContext,
  bnPrefix: string,
  running: { mean: tf.Tensor; variance: tf.Tensor } | undefined,
): void {
  if (!running || !ctx.updateState) return;
  ctx.updateState(`${bnPrefix}running_mean`, running.mean);
  ctx.updateState(`${bnPrefix}running_var`, running.variance);
}

/** Conv k×k (pad k/2) → BN → ReLU of the node's `<prefix>0/1` weights. */
function cbr(ctx: ForwardContext, x: tf.Tensor4D, prefix: string, kernel = 3): tf.Tensor4D {
  const r = convBnRelu(x, convBnOf(ctx, prefix), kernel, bnMode(ctx));
  saveRunning(ctx, `${prefix}1.`, r.running);
  return r.y;
}

const stdConv = (ctx: ForwardContext, name: string) =>
  standardizeWeight(matrix(ctx, `${name}.weight`));

/** GroupNorm of the node's `<name>.weight/bias`. */
const gn = (ctx: ForwardContext, x: tf.Tensor4D, name: string, groups: number, eps: number) =>
  groupNorm(x, norm(ctx, `${name}.`), groups, eps);

function bottleneck(ctx: ForwardContext): tf.Tensor4D {
  const x = ctx.inputs.in as tf.Tensor4D;
  const s = num(ctx.params, 'stride');
  const g = num(ctx.params, 'groups');
  const cout = num(ctx.params, 'outChannels');
  const proj = s !== 1 || x.shape[3] !== cout;
  const residual = proj
    ? gn(
        ctx,
        conv2d(x, { weight: stdConv(ctx, 'downsample') }, { kernel: 1, stride: s }),
        'gn_proj',
        cout,
        1e-5,
      )
    : x;
  let y = tf.relu(
    gn(ctx, conv2d(x, { weight: stdConv(ctx, 'conv1') }, { kernel: 1 }), 'gn1', g, 1e-6),
  );
  y = tf.relu(
    gn(
      ctx,
      conv2d(y, { weight: stdConv(ctx, 'conv2') }, { kernel: 3, stride: s, padding: 1 }),
      'gn2',
      g,
      1e-6,
    ),
  );
  y = gn(ctx, conv2d(y, { weight: stdConv(ctx, 'conv3') }, { kernel: 1 }), 'gn3', g, 1e-6);
  return tf.relu(tf.add(residual, y)) as tf.Tensor4D;
}

export const cnnKernels: Record<string, Kernel> = {
  conv2d: (ctx) => {
    const w = matrix(ctx, 'weight');
    return {
      out: conv2d(
        ctx.inputs.in as tf.Tensor4D,
        {
          weight: bool(ctx.params, 'standardize') ? standardizeWeight(w) : w,
          ...(bool(ctx.params, 'bias') ? { bias: vector(ctx, 'bias') } : {}),
        },
        {
          kernel: num(ctx.params, 'kernel'),
          stride: num(ctx.params, 'stride'),
          padding: num(ctx.params, 'padding'),
        },
      ),
    };
  },

  'conv-bn-relu': recomputed((ctx) => ({
    out: cbr(ctx, ctx.inputs.in as tf.Tensor4D, '', num(ctx.params, 'kernel')),
  })),

  'resnet-root': recomputed((ctx) => {
    const y = conv2d(
      ctx.inputs.in as tf.Tensor4D,
      { weight: stdConv(ctx, 'conv') },
      { kernel: 7, stride: 2, padding: 3 },
    );
    return { out: tf.relu(gn(ctx, y, 'gn', num(ctx.params, 'groups'), 1e-6)) };
  }),

  'max-pool': recomputed((ctx) => ({
    out: maxPool2d(ctx.inputs.in as tf.Tensor4D, {
      kernel: num(ctx.params, 'kernel'),
      stride: num(ctx.params, 'stride'),
      padding: num(ctx.params, 'padding'),
    }),
  })),

  bottleneck: recomputed((ctx) => ({ out: bottleneck(ctx) })),

  'zero-pad': (ctx) => ({
    out: zeroPadBottomRight(
      ctx.inputs.in as tf.Tensor4D,
      num(ctx.params, 'bottom'),
      num(ctx.params, 'right'),
    ),
  }),

  'cup-block': recomputed((ctx) => {
    const up = upsampleBilinear(ctx.inputs.in as tf.Tensor4D, 2);
    const skip = ctx.inputs.skip as tf.Tensor4D | undefined;
    const x = skip ? (tf.concat([up, skip], 3) as tf.Tensor4D) : up;
    return { out: cbr(ctx, cbr(ctx, x, 'conv1.'), 'conv2.') };
  }),
};
