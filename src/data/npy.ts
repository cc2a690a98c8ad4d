/** NumPy .npy / .npz reading (and .npy writing, used to hand arrays to Python oracles). */
import { unzipSync } from 'fflate';
import { readNpy, writeNpy as writeNpyCore } from '../compile/io/npy.ts';
import { type Result, fail, ok } from './types.ts';

export type NpyData =
  | Float32Array
  | Float64Array
  | Int8Array
  | Uint8Array
  | Int16Array
  | Uint16Array
  | Int32Array
  | Uint32Array;

export interface NpyArray {
  /** NumPy shape (slowest axis first). */
  shape: number[];
  /** Values in C order (transposed from Fortran order if the file was). */
  data: NpyData;
  dtype: string;
}

/**
 * One .npy array as a Result whose message names the file. The decoding is
 * src/compile/io/npy.ts's (the project's one .npy reader); 64-bit integers
 * come back as Float64Array here, since label and image data fit it exactly.
 */
export function parseNpy(bytes: Uint8Array, name = 'array.npy'): Result<NpyArray> {
  let a: ReturnType<typeof readNpy>;
  try {
    a = readNpy(bytes);
  } catch (e) {
    return fail(`${name} ${e instanceof Error ? e.message : String(e)}`, name);
  }
  const data =
    a.data instanceof BigInt64Array || a.data instanceof BigUint64Array
      ? Float64Array.from(a.data, (x) => Number(x))
      : a.data;
  return ok({ shape: a.shape, data, dtype: a.dtype });
}

/** An .npz file (a zip of .npy members), keyed by member name without ".npy". */
export function parseNpz(bytes: Uint8Array, name = 'arrays.npz'): Result<Record<string, NpyArray>> {
  let files: Record<string, Uint8Array>;
  try {
    files = unzipSync(bytes);
  } catch (e) {
    return fail(
      `${name} is not a readable .npz (zip) file: ${e instanceof Error ? e.message : String(e)}`,
      name,
    );
  }
  const out: Record<string, NpyArray> = {};
  for (const [member, content] of Object.entries(files)) {
    if (!member.endsWith('.npy')) continue;
    const r = parseNpy(content, `${name}:${member}`);
    if (!r.ok) return fail(r.message, name);
    out[member.slice(0, -4)] = r.value;
  }
  return ok(out);
}

/** Write a C-order .npy (version 1.0): the project's one writer. */
export const writeNpy = (data: NpyData, shape: number[]): Uint8Array => writeNpyCore(data, shape);
