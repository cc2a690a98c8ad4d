/**
 * A tiny 3D segmentation graph (8³×1 in: conv3d 3³ → conv3d 1³ head, classes out)
 * and a kernel table with a conv3d kernel on src/ops/vol3d.ts, for testing the
 * volume engine and CLI before the 3D kinds' own kernels land (a host may pass
 * its own kernels; the built-in table wins where it has one).
 */
import * as tf from '#tfjs';
import { catalogue } from '../../nodes/index.ts';
import { kernels } from '../../src/compile/kernels/index.ts';
import type { Kernel, KernelTable } from '../../src/compile/kernels/types.ts';
import { GraphBuilder } from '../../src/graph/builder.ts';
import type { GraphDoc } from '../../src/graph/types.ts';
import type { Case } from '../../src/data/types.ts';
import type { IntensityRange } from '../../src/data/volume-crops.ts';
import { conv3d } from '../../src/ops/vol3d.ts';

/** Whether the built-in kernel table has a kind (the 3D kinds' kernels land separately). */
export const hasKernel = (type: string): boolean => kernels.has(type);

const parseTriple = (v: unknown) => String(v).split(',').map(Number) as [number, number, number];

/** conv3d with the ops layout weight `[k³·Cin, Cout]` reshaped to tfjs's `[kD, kH, kW, Cin, Cout]`. */
const conv3dKernel: Kernel = (ctx) =>
  tf.tidy(() => {
    const x = ctx.inputs.in as tf.Tensor5D;
    const [kd, kh, kw] = parseTriple(ctx.params.kernel);
    const w = ctx.weight('weight');
    const cout = w.shape[1]!;
    const w5 = tf.reshape(w, [kd, kh, kw, x.shape[4], cout]) as tf.Tensor5D;
    const bias = ctx.params.bias ? (ctx.weight('bias') as tf.Tensor1D) : undefined;
    return {
      out: conv3d(x, w5, bias, {
        stride: parseTriple(ctx.params.stride),
        padding: parseTriple(ctx.params.padding),
      }),
    };
  });

export const kernels3d: KernelTable = new Map([['conv3d', conv3dKernel], ...kernels]);

export function tiny3dGraph(
  opts: { size?: [number, number, number]; classes?: string[]; channels?: number } = {},
): GraphDoc {
  const [d, h, w] = opts.size ?? [8, 8, 8];
  const classNames = opts.classes ?? ['background', 'organ1', 'organ2'];
  const b = new GraphBuilder(catalogue, {
    title: 'tiny 3D',
    training: { batchSize: 2, epochs: 2, learningRate: 0.01, optimizer: 'adamw', seed: 3 },
  });
  b.add('input', 'image-input', { channels: opts.channels ?? 1, depth: d, height: h, width: w });
  b.add('enc', 'conv3d', { outChannels: 4, kernel: '3,3,3', stride: '1,1,1', padding: '1,1,1' });
  b.link('input', 'enc');
  b.add('head', 'conv3d', {
    outChannels: classNames.length,
    kernel: '1,1,1',
    stride: '1,1,1',
    padding: '0,0,0',
  });
  b.link('enc', 'head');
  b.add('segmentation', 'output', { classes: classNames.length, classNames });
  b.link('head', 'segmentation', 'out', 'logits');
  return b.doc;
}

/** A [D, H, W] volume (NIfTI dims [W, H, D]) whose class follows its intensity: 40 background, 120 organ1, 220 organ2. */
export function phantom3dCase(
  id: string,
  [D, H, W]: [number, number, number],
  intensity?: IntensityRange,
): Case {
  const n = D * H * W;
  const label = new Uint8Array(n);
  const image = new Float32Array(n);
  for (let z = 0, i = 0; z < D; z++)
    for (let y = 0; y < H; y++)
      for (let x = 0; x < W; x++, i++) {
        const a =
          (z - D / 2) ** 2 / (D * D) + (y - H / 2) ** 2 / (H * H) + (x - W / 3) ** 2 / (W * W);
        label[i] = a < 0.04 ? 2 : a < 0.12 ? 1 : 0;
        image[i] = [40, 120, 220][label[i]] + ((i * 37) % 11) - 5;
      }
  const dims = [W, H, D];
  const affine = [
    [2, 0, 0, -10],
    [0, 2, 0, 5],
    [0, 0, 2, 1],
    [0, 0, 0, 1],
  ];
  return {
    id,
    channels: [
      {
        data: image,
        dims,
        spacing: [2, 2, 2],
        affine,
        datatype: 'float32',
        ...(intensity ? { intensity } : {}),
      },
    ],
    label: { data: label, dims, spacing: [2, 2, 2], affine },
    files: [],
  };
}
