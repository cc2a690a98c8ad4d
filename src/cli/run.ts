/**
 * `mam run <graph.json> --input x.npy --output y.npy [--weights w.safetensors] …`: batch
 * inference. `--input x.nii.gz` predicts the whole volume (a 3D graph by sliding windows,
 * a 2D one slice by slice) and writes the labels as NIfTI with the input's grid and affine.
 */
import * as tf from '#tfjs';
import { readNpy, writeNpy } from '../compile/io/npy.ts';
import { describeResize, fitImage, resizePlan, type ResizePlan } from '../data/prepare.ts';
import { COMMON_FLAGS, type Parsed, type VerbSpec } from './args.ts';
import { SessionError, EXIT_CODES, writeOutput } from './errors.ts';
import { applyWeightsFile, compileGraphFile, readBytes, startBackend } from './load-model.ts';
import type { CliIO } from './main.ts';
import type { CompiledModel } from '../compile/model.ts';
import type { Plan } from '../compile/plan.ts';
import { readNifti, writeNifti, writePredictionNifti } from '../data/nifti.ts';
import { formatDims, type Case } from '../data/types.ts';
import { predictVolume } from '../train/evaluate.ts';
import { slidingWindowInference, type PatchPredictor } from '../train/sliding-window.ts';
import { volumeInput } from '../train/volume-batches.ts';
import type { SlidingWindowSettings } from '../graph/types.ts';
import { describeWindow, resolveTestWindow, type Resolved } from '../session/settings.ts';

const NIFTI_NAME = /\.nii(\.gz)?$/i;

type RunArgs = Parsed<typeof RUN_SPEC>;

/** Logits `[N, D, H, W, K]` of N volumes `[N, D, H, W, C]` under a 3D graph, each by sliding windows. */
async function volumeBatchLogits(
  model: CompiledModel,
  data: Float32Array,
  shape: number[],
  p: RunArgs,
  sw: SlidingWindowSettings,
): Promise<{ data: Float32Array; shape: number[] }> {
  const vol = volumeInput(model.plan)!;
  const [N, D, H, W, C] = shape;
  const per = D * H * W * C;
  // the model is rank-generic: it checks the window batch against the plan's B×D×H×W×C
  const predict = ((x: tf.Tensor) => model.predict(x as tf.Tensor4D)) as unknown as PatchPredictor;
  const parts: Float32Array[] = [];
  let K = 0;
  for (let n = 0; n < N; n++) {
    const r = await slidingWindowInference(
      data.subarray(n * per, (n + 1) * per),
      [D, H, W],
      C,
      predict,
      {
        roi: vol.roi,
        overlap: sw.overlap,
        mode: p.flags.blend ?? 'constant',
        batchSize: sw.batchSize,
      },
    );
    parts.push(r.logits);
    K = r.classes;
  }
  const all = new Float32Array(parts.reduce((a, b) => a + b.length, 0));
  parts.forEach((x, i) => all.set(x, i * x.length));
  return { data: all, shape: [N, D, H, W, K] };
}

/** A NIfTI volume predicted whole and its labels written as NIfTI on its grid with its affine. */
async function predictNifti(
  p: RunArgs,
  model: CompiledModel,
  plan: Plan,
  sw: Resolved<SlidingWindowSettings>,
  { print, log }: Pick<CliIO, 'print' | 'log'>,
): Promise<number> {
  const { input, output } = p.flags as { input: string; output: string };
  const r = readNifti(await readBytes(input, 'input'), input);
  if (!r.ok) throw new SessionError(r.message, EXIT_CODES.badData);
  const v = r.value;
  if (v.dims.slice(3).some((n) => n > 1))
    throw new SessionError(
      `${input} is ${formatDims(v.dims)}: give one 3D volume per file`,
      EXIT_CODES.badData,
    );
  const c: Case = { id: input, channels: [v], label: null, files: [input] };
  const vol = volumeInput(plan);
  const [, inH, inW] = plan.input.shape;
  const [w, h] = v.dims;
  if (!vol && (h !== inH || w !== inW) && !p.flags.resize)
    throw new SessionError(
      `${input} has ${h}×${w} slices; the graph expects ${inH}×${inW}: pass --resize stretch or --resize pad to resize them`,
      EXIT_CODES.badData,
    );
  log(
    vol
      ? `predicting ${formatDims(v.dims)} by sliding windows of ${formatDims(vol.roi)}, ${describeWindow(sw)}, ${p.flags.blend ?? 'constant'} blending`
      : `predicting ${formatDims(v.dims)} slice by slice`,
  );
  const labels = await predictVolume(model, c, {
    normalisation: p.flags.normalise ?? 'auto',
    resize: p.flags.resize,
    batchSize: vol ? sw.value.batchSize : (p.flags.batch ?? 4),
    overlap: sw.value.overlap,
    blend: p.flags.blend,
  });
  const bytes = /\.nii$/i.test(output)
    ? writeNifti(labels, v.dims.slice(0, 3), { affine: v.affine, spacing: v.spacing, gzip: false })
    : writePredictionNifti(labels, c);
  await writeOutput(output, bytes, 'prediction');
  print(
    `wrote ${output}: labels ${formatDims(v.dims.slice(0, 3))} with the input's affine (classes: ${plan.classNames.join(', ')})`,
  );
  return EXIT_CODES.ok;
}

export const RUN_SPEC = {
  verb: 'run',
  positionals: ['<graph.json>'],
  flags: {
    input: {
      kind: 'string',
      value: '<x.npy|x.nii.gz>',
      required: true,
      help: 'float32 NHWC (3D graphs: NDHWC) input, or a NIfTI volume',
    },
    output: {
      kind: 'string',
      value: '<y.npy|y.nii.gz>',
      required: true,
      help: 'where the logits go (.npy), or the labels for a NIfTI input (.nii.gz / .nii)',
    },
    weights: {
      kind: 'string',
      value: '<w.safetensors>',
      help: "a mam-studio checkpoint or a PyTorch state dict (default: the graph's seeded initialisation)",
    },
    'allow-partial': COMMON_FLAGS['allow-partial'],
    backend: COMMON_FLAGS.backend,
    threads: COMMON_FLAGS.threads,
    resize: COMMON_FLAGS.resize,
    normalise: { ...COMMON_FLAGS.normalise, help: 'intensity normalisation of a NIfTI input' },
    overlap: COMMON_FLAGS.overlap,
    blend: COMMON_FLAGS.blend,
    batch: {
      kind: 'int',
      value: '<N>',
      min: 1,
      help: "images (3D graphs: windows) per forward pass (default 4; 3D: the graph's metadata.training.slidingWindow.test, else 4)",
    },
  },
  summary: 'forward pass of a graph over an .npy batch; writes the logits',
} as const satisfies VerbSpec;

/** N images of `channels` interleaved channels, each fitted to the input by the plan. */
function resizeImages(
  data: Float32Array,
  n: number,
  channels: number,
  fit: ResizePlan,
): Float32Array {
  const size = fit.from[0] * fit.from[1] * channels;
  const outSize = fit.to[0] * fit.to[1] * channels;
  const out = new Float32Array(n * outSize);
  for (let b = 0; b < n; b++)
    out.set(fitImage(data.subarray(b * size, (b + 1) * size), channels, fit), b * outSize);
  return out;
}

export async function runCommand(
  p: Parsed<typeof RUN_SPEC>,
  { print, log, kernels }: CliIO,
): Promise<number> {
  const graphPath = p.positionals[0];
  const { input, output } = p.flags as { input: string; output: string };
  const nifti = NIFTI_NAME.test(input);
  if (nifti && !NIFTI_NAME.test(output))
    throw new SessionError(
      `--output ${output}: a NIfTI input's prediction is written as NIfTI with its affine; name it .nii.gz or .nii`,
      EXIT_CODES.usage,
    );
  await startBackend(p.flags.backend ?? 'auto', log, p.flags.threads);
  const { graph, model, plan } = await compileGraphFile(graphPath, 0, kernels);
  const sw = resolveTestWindow(graph.metadata?.training, p.flags);
  try {
    const weights = p.flags.weights;
    if (weights)
      await applyWeightsFile(model, weights, log, { allowPartial: p.flags['allow-partial'] });
    else log("no --weights given: using the graph's seeded initialisation (seed 0)");
    if (nifti) return await predictNifti(p, model, plan, sw, { print, log });
    let arr;
    try {
      arr = readNpy(await readBytes(input, 'input'));
    } catch (e) {
      if (e instanceof SessionError) throw e;
      throw new SessionError(`${input} ${(e as Error).message}`, EXIT_CODES.badData);
    }
    const want = plan.input.shape.slice(1);
    const vol = volumeInput(plan);
    // a 3D graph takes N×D×H×W×C only: a rank-4 array could be one volume or a batch of slices
    const shape = !vol && arr.shape.length === want.length ? [1, ...arr.shape] : arr.shape;
    const expects = vol
      ? `the graph takes volumes N×D×H×W×${want[3]} (NDHWC float32; any D, H, W: sliding windows of ${formatDims(vol.roi)})`
      : `the graph expects N×${want.join('×')} (NHWC float32)`;
    if (shape.length !== want.length + 1 || shape[shape.length - 1] !== want[want.length - 1])
      throw new SessionError(`${input} is ${arr.shape.join('×')}; ${expects}`, EXIT_CODES.badData);
    let data: Float32Array = Float32Array.from(arr.data as ArrayLike<number>);
    if (vol) {
      const logits = await volumeBatchLogits(model, data, shape, p, sw.value);
      await writeOutput(output, writeNpy(logits.data, logits.shape, 'f4'), 'logits');
      print(
        `wrote ${output}: logits ${logits.shape.join('×')} by sliding windows of ${formatDims(vol.roi)}, ${describeWindow(sw)} (classes: ${plan.classNames.join(', ')})`,
      );
      return EXIT_CODES.ok;
    }
    if (shape[1] !== want[0] || shape[2] !== want[1]) {
      const rule = p.flags.resize;
      if (!rule)
        throw new SessionError(
          `${input} is ${arr.shape.join('×')}; ${expects}: pass --resize stretch or --resize pad to resize it`,
          EXIT_CODES.badData,
        );
      const from: [number, number] = [shape[1], shape[2]];
      const fit = resizePlan(from, [want[0], want[1]], rule);
      log(
        `resizing ${describeResize({ ...fit, slices: shape[0] })}; the logits are on the graph's ${want[0]}×${want[1]} grid`,
      );
      data = resizeImages(data, shape[0], shape[3], fit);
      shape[1] = want[0];
      shape[2] = want[1];
    }
    const batch = p.flags.batch ?? 4;
    const outShape = [shape[0], ...plan.output.shape.slice(1)];
    const all = new Float32Array(outShape.reduce((a, b) => a * b, 1));
    const x = tf.tensor4d(data, shape as [number, number, number, number]);
    try {
      for (let i = 0, off = 0; i < shape[0]; i += batch) {
        const y = tf.tidy(() =>
          model.predict(x.slice([i, 0, 0, 0], [Math.min(batch, shape[0] - i), -1, -1, -1])),
        );
        const part = (await y.data()) as Float32Array;
        y.dispose();
        all.set(part, off);
        off += part.length;
      }
    } finally {
      x.dispose();
    }
    await writeOutput(output, writeNpy(all, outShape, 'f4'), 'logits');
    print(`wrote ${output}: logits ${outShape.join('×')} (classes: ${plan.classNames.join(', ')})`);
    return EXIT_CODES.ok;
  } finally {
    model.dispose();
  }
}
