/** `mam run <graph.json> --input x.npy --output y.npy [--weights w.safetensors] …`: batch inference. */
import * as tf from '#tfjs';
import { readNpy, writeNpy } from '../compile/io/npy.ts';
import { describeResize, fitImage, resizePlan, type ResizePlan } from '../data/prepare.ts';
import { COMMON_FLAGS, type Parsed, type VerbSpec } from './args.ts';
import { SessionError, EXIT_CODES, writeOutput } from './errors.ts';
import { applyWeightsFile, compileGraphFile, readBytes, startBackend } from './load-model.ts';
import type { CliIO } from './main.ts';

export const RUN_SPEC = {
  verb: 'run',
  positionals: ['<graph.json>'],
  flags: {
    input: { kind: 'string', value: '<x.npy>', required: true, help: 'float32 NHWC input' },
    output: { kind: 'string', value: '<y.npy>', required: true, help: 'where the logits go' },
    weights: {
      kind: 'string',
      value: '<w.safetensors>',
      help: "a mam-studio checkpoint or a PyTorch state dict (default: the graph's seeded initialisation)",
    },
    'allow-partial': COMMON_FLAGS['allow-partial'],
    backend: COMMON_FLAGS.backend,
    threads: COMMON_FLAGS.threads,
    resize: COMMON_FLAGS.resize,
    batch: { kind: 'int', value: '<N>', min: 1, help: 'images per forward pass (default 4)' },
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
  { print, log }: CliIO,
): Promise<number> {
  const graphPath = p.positionals[0];
  const { input, output } = p.flags as { input: string; output: string };
  await startBackend(p.flags.backend ?? 'auto', log, p.flags.threads);
  const { model, plan } = await compileGraphFile(graphPath);
  try {
    const weights = p.flags.weights;
    if (weights)
      await applyWeightsFile(model, weights, log, { allowPartial: p.flags['allow-partial'] });
    else log("no --weights given: using the graph's seeded initialisation (seed 0)");
    let arr;
    try {
      arr = readNpy(await readBytes(input, 'input'));
    } catch (e) {
      if (e instanceof SessionError) throw e;
      throw new SessionError(`${input} ${(e as Error).message}`, EXIT_CODES.badData);
    }
    const want = plan.input.shape.slice(1);
    const shape = arr.shape.length === want.length ? [1, ...arr.shape] : arr.shape;
    const expects = `the graph expects N×${want.join('×')} (NHWC float32)`;
    if (shape.length !== want.length + 1 || shape[3] !== want[2])
      throw new SessionError(`${input} is ${arr.shape.join('×')}; ${expects}`, EXIT_CODES.badData);
    let data: Float32Array = Float32Array.from(arr.data as ArrayLike<number>);
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
