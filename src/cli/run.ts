/** `mam run <graph.json> [--weights w.safetensors] --input x.npy --output y.npy [--backend …]`: batch inference. */
import { writeFile } from 'node:fs/promises';
import * as tf from '@tensorflow/tfjs';
import { initBackend } from '../backend/index.ts';
import type { BackendPreference } from '../backend/index.ts';
import { readNpy, writeNpy } from '../compile/io/npy.ts';
import { parseArgs, flag } from './args.ts';
import {
  CliError,
  EXIT_CODES,
  applyWeightsFile,
  compileGraphFile,
  readBytes,
} from './load-model.ts';

export const RUN_USAGE =
  'run <graph.json> --input x.npy --output y.npy [--weights w.safetensors] [--backend auto|webgpu|wasm|cpu] [--batch N]';

export async function runCommand(args: string[], print: (s: string) => void): Promise<number> {
  const p = parseArgs(args);
  const graphPath = p.positional[0];
  const input = flag(p, 'input');
  const output = flag(p, 'output');
  if (!graphPath || !input || !output) {
    print(`usage: mam ${RUN_USAGE}`);
    return EXIT_CODES.unreadable;
  }
  const log = (s: string) => process.stderr.write(s + '\n');
  try {
    const backend = await initBackend((flag(p, 'backend') ?? 'auto') as BackendPreference);
    log(backend.message);
    const { model, plan } = await compileGraphFile(graphPath);
    const weights = flag(p, 'weights');
    if (weights) await applyWeightsFile(model, weights, log);
    else log("no --weights given: using the graph's seeded initialisation (seed 0)");
    let arr;
    try {
      arr = readNpy(await readBytes(input, 'input'));
    } catch (e) {
      if (e instanceof CliError) throw e;
      throw new CliError(`${input} ${(e as Error).message}`, EXIT_CODES.badData);
    }
    const want = plan.input.shape.slice(1);
    const shape = arr.shape.length === want.length ? [1, ...arr.shape] : arr.shape;
    if (shape.length !== want.length + 1 || shape.slice(1).some((d, i) => d !== want[i])) {
      throw new CliError(
        `${input} is ${arr.shape.join('×')}; the graph expects N×${want.join('×')} (NHWC float32)`,
        EXIT_CODES.badData,
      );
    }
    const x = tf.tensor4d(
      Float32Array.from(arr.data as ArrayLike<number>),
      shape as [number, number, number, number],
    );
    const batch = Number(flag(p, 'batch') ?? 4);
    const parts: Float32Array[] = [];
    for (let i = 0; i < shape[0]; i += batch) {
      const xb = x.slice([i, 0, 0, 0], [Math.min(batch, shape[0] - i), -1, -1, -1]);
      const y = model.predict(xb);
      parts.push((await y.data()) as Float32Array);
      tf.dispose([xb, y]);
    }
    x.dispose();
    const outShape = [shape[0], ...plan.output.shape.slice(1)];
    const all = new Float32Array(outShape.reduce((a, b) => a * b, 1));
    let off = 0;
    for (const part of parts) {
      all.set(part, off);
      off += part.length;
    }
    await writeFile(output, writeNpy(all, outShape, 'f4'));
    print(`wrote ${output}: logits ${outShape.join('×')} (classes: ${plan.classNames.join(', ')})`);
    model.dispose();
    return 0;
  } catch (e) {
    if (e instanceof CliError) {
      process.stderr.write(`mam run: ${e.message}\n`);
      return e.code;
    }
    throw e;
  }
}
