/** Transpose by the definition, for the tests of src/backend/wasm-transpose.ts. */

/** out index o reads x at the input index whose axis perm[k] is o[k] (row-major, plain loops). */
export function transposeLoop(data: ArrayLike<number>, shape: number[], perm: number[]): number[] {
  const out = perm.map((a) => shape[a]);
  const inStrides = shape.map((_, i) => shape.slice(i + 1).reduce((a, b) => a * b, 1));
  const size = shape.reduce((a, b) => a * b, 1);
  const result = new Array<number>(size);
  const idx = new Array<number>(out.length).fill(0);
  for (let flat = 0; flat < size; flat++) {
    let r = flat;
    for (let k = out.length - 1; k >= 0; k--) {
      idx[k] = r % out[k];
      r = Math.floor(r / out[k]);
    }
    let src = 0;
    for (let k = 0; k < out.length; k++) src += idx[k] * inStrides[perm[k]];
    result[flat] = data[src];
  }
  return result;
}
