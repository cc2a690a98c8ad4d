/**
 * HDF5 datasets (the Synapse `.npy.h5` test volumes) through h5wasm, loaded lazily
 * so nothing pulls the wasm module in until an .h5 file is actually read.
 */
import { type Result, fail, ok } from './types.ts';
import type { NpyArray, NpyData } from './npy.ts';

let counter = 0;

/** Read the named datasets (C-order arrays with NumPy shapes) from HDF5 bytes. */
export async function readH5Datasets(
  bytes: Uint8Array,
  names: string[],
  fileName = 'file.h5',
): Promise<Result<Record<string, NpyArray>>> {
  if (
    bytes.length < 8 ||
    bytes[0] !== 0x89 ||
    bytes[1] !== 0x48 ||
    bytes[2] !== 0x44 ||
    bytes[3] !== 0x46
  ) {
    return fail(`${fileName} is not an HDF5 file (no \\x89HDF signature)`, fileName);
  }
  let h5: typeof import('h5wasm');
  try {
    h5 = await import('h5wasm');
  } catch (e) {
    return fail(
      `cannot load the HDF5 reader (h5wasm) for ${fileName}: ${e instanceof Error ? e.message : String(e)}`,
      fileName,
    );
  }
  const mod = await h5.ready;
  const path = `/mam-h5-${++counter}.h5`;
  mod.FS.writeFile(path, bytes);
  let file: InstanceType<typeof h5.File> | null = null;
  try {
    file = new h5.File(path, 'r');
    const out: Record<string, NpyArray> = {};
    const keys = file.keys();
    for (const n of names) {
      if (!keys.includes(n)) {
        return fail(
          `${fileName} has no dataset "${n}" (it holds: ${keys.join(', ') || 'nothing'})`,
          fileName,
        );
      }
      const ds = file.get(n);
      if (!ds || !(ds instanceof h5.Dataset))
        return fail(`${fileName}: "${n}" is not a dataset`, fileName);
      const value = ds.value as unknown;
      const shape = (ds.shape ?? []).map(Number);
      if (!ArrayBuffer.isView(value) || value instanceof DataView) {
        return fail(
          `${fileName}: dataset "${n}" has dtype ${String(ds.dtype)}, which this reader does not support`,
          fileName,
        );
      }
      let data = value as unknown as NpyData | BigInt64Array | BigUint64Array;
      if (data instanceof BigInt64Array || data instanceof BigUint64Array)
        data = Float64Array.from(data, Number);
      out[n] = { shape, data: data as NpyData, dtype: String(ds.dtype) };
    }
    return ok(out);
  } catch (e) {
    return fail(
      `${fileName} is not a readable HDF5 file: ${e instanceof Error ? e.message : String(e)}`,
      fileName,
    );
  } finally {
    try {
      file?.close();
    } catch {
      /* already closed */
    }
    try {
      mod.FS.unlink(path);
    } catch {
      /* never written */
    }
  }
}
