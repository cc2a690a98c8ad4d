// LayerNorm and exact GELU as WebGPU programs of tfjs's webgpu backend,
// under the kernel names the wasm backend already uses (wasm-layer-norm.ts,
// wasm-gelu.ts). Composed from tfjs ops a LayerNorm is ~10 dispatches
// forward and ~20 backward, a GELU 5 and 8; a demo training step runs 28
// LayerNorms and 10 GELUs each way. Here a LayerNorm is one dispatch
// forward and four backward (the rows' moments; dx; dγ; dβ), a GELU one
// each way. A program is a plain object in the shape of the backend's
// WebGPUProgram; the backend prepends the bindings (inputs as storage arrays
// named by variableNames, `result`, `uniforms` with each input's and the
// output's shape) and the entry point, which calls `main(index)` with the
// invocation's flat index. WGSL has float32 only: a row's mean is its first
// value plus the mean of the differences from it, its variance a second pass
// over (x − mean)², each a workgroup reduction (one workgroup a row).
import type { WebGPUBackend, WebGPUProgram } from '@tensorflow/tfjs-backend-webgpu';
import * as tf from '#tfjs';
import { GELU, GELU_GRAD } from './wasm-gelu.ts';
import { ERF_A, ERF_P } from './wasm-gelu-simd.ts';
import { LAYER_NORM, LAYER_NORM_GRAD } from './wasm-layer-norm.ts';

type KernelArgs = Parameters<tf.KernelFunc>[0];

/** Threads of a workgroup (a power of 2: the reductions halve it). */
const THREADS = 64;

const main = 'fn main(index : i32)';

/** A workgroup's sum of one vec2 a thread; every thread gets the total. */
const workgroupSum = `
  var<workgroup> partial : array<vec2<f32>, ${THREADS}>;
  fn workgroupSum(v : vec2<f32>) -> vec2<f32> {
    let tid = localIndex;
    partial[tid] = v;
    workgroupBarrier();
    for (var s = ${THREADS / 2}u; s > 0u; s = s >> 1u) {
      if (tid < s) {
        partial[tid] = partial[tid] + partial[tid + s];
      }
      workgroupBarrier();
    }
    let total = partial[0];
    workgroupBarrier();
    return total;
  }
`;

/**
 * The moments of row `row` of X `[M, C]` (every thread of the workgroup
 * calls it): (mean − K, 1/√(variance + eps)) with K the row's first value.
 * Kept relative to K: x − K is exact in float32 for x near K, while a mean
 * stored in float32 is off by up to half an ulp of the values (1.5e-5 near
 * 300), a large error in x − mean when the row's spread is small. Threads
 * past the last row (a dispatch split over two dimensions may add some)
 * read nothing.
 */
const rowMoments = `
  ${workgroupSum}
  fn rowMoments(row : i32, inRange : bool) -> vec2<f32> {
    let cols = uniforms.xShape[1];
    let base = row * cols;
    let tid = i32(localIndex);
    var shift = 0.0;
    var s = 0.0;
    if (inRange) {
      shift = X[base];
      for (var c = tid; c < cols; c += ${THREADS}) { s += X[base + c] - shift; }
    }
    let offset = workgroupSum(vec2<f32>(s, 0.0)).x / f32(cols);
    var q = 0.0;
    if (inRange) {
      for (var c = tid; c < cols; c += ${THREADS}) {
        let d = (X[base + c] - shift) - offset;
        q += d * d;
      }
    }
    let variance = workgroupSum(vec2<f32>(q, 0.0)).x / f32(cols);
    return vec2<f32>(offset, 1.0 / sqrt(variance + uniforms.eps));
  }
`;

/** A program of one workgroup per row of `[rows, …]`, or per element of `[n]` in blocks of THREADS. */
function program(
  name: string,
  variableNames: string[],
  outputShape: number[],
  workgroups: number,
  body: string,
  uniforms?: string,
): WebGPUProgram {
  return {
    variableNames,
    outputShape,
    shaderKey: name,
    dispatchLayout: { x: outputShape.map((_, i) => i) },
    dispatch: [workgroups, 1, 1],
    workgroupSize: [THREADS, 1, 1],
    size: true,
    ...(uniforms ? { uniforms } : {}),
    getUserCode: () => body,
  };
}

/** The same data seen with another shape (tfjs's reshape on webgpu shares the buffer the same way). */
const view = (t: tf.TensorInfo, shape: number[]): tf.TensorInfo => ({
  dataId: t.dataId,
  dtype: t.dtype,
  shape,
});

function rowsOf(x: tf.TensorInfo): [number, number] {
  const C = x.shape[x.shape.length - 1];
  return [C === 0 ? 0 : tf.util.sizeFromShape(x.shape) / C, C];
}

/** x̂ of element `c` of the row at `base`, from its moments `m` (as rowMoments returns them). */
const normalized = `
  fn normalized(base : i32, c : i32, m : vec2<f32>) -> f32 {
    return ((X[base + c] - X[base]) - m.x) * m.y;
  }`;

const rowHeader = `
    let row = index / ${THREADS};
    let inRange = row < uniforms.xShape[0];
    let cols = uniforms.xShape[1];
    let base = row * cols;
    let tid = i32(localIndex);`;

const layerNormForwardCode = `
  ${rowMoments}
  ${normalized}
  ${main} {
    ${rowHeader}
    let m = rowMoments(row, inRange);
    if (inRange) {
      for (var c = tid; c < cols; c += ${THREADS}) {
        setOutputAtIndex(base + c, normalized(base, c, m) * Gamma[c] + Beta[c]);
      }
    }
  }`;

const rowStatsCode = `
  ${rowMoments}
  ${main} {
    ${rowHeader}
    let m = rowMoments(row, inRange);
    if (inRange && tid == 0) {
      setOutputAtIndex(2 * row, m.x);
      setOutputAtIndex(2 * row + 1, m.y);
    }
  }`;

/** dx = (g − mean(g) − x̂·mean(g·x̂))·rstd with g = dy·γ, x̂ = (x − mean)·rstd, per row. */
const layerNormDxCode = `
  ${workgroupSum}
  ${normalized}
  ${main} {
    ${rowHeader}
    var sums = vec2<f32>(0.0, 0.0);
    var m = vec2<f32>(0.0, 0.0);
    if (inRange) {
      m = vec2<f32>(Stats[2 * row], Stats[2 * row + 1]);
      for (var c = tid; c < cols; c += ${THREADS}) {
        let g = Dy[base + c] * Gamma[c];
        sums += vec2<f32>(g, g * normalized(base, c, m));
      }
    }
    let means = workgroupSum(sums) / f32(cols);
    if (inRange) {
      for (var c = tid; c < cols; c += ${THREADS}) {
        let g = Dy[base + c] * Gamma[c];
        setOutputAtIndex(base + c, (g - means.x - normalized(base, c, m) * means.y) * m.y);
      }
    }
  }`;

/** One workgroup a column: Σ_rows dy·x̂ (dγ) when uniforms.withX is 1, else Σ_rows dy (dβ). */
const layerNormColumnsCode = `
  ${workgroupSum}
  ${normalized}
  ${main} {
    let col = index / ${THREADS};
    let cols = uniforms.xShape[1];
    let rows = uniforms.xShape[0];
    var s = 0.0;
    if (col < cols) {
      for (var r = i32(localIndex); r < rows; r += ${THREADS}) {
        let i = r * cols + col;
        var v = Dy[i];
        if (uniforms.withX == 1) {
          v *= normalized(r * cols, col, vec2<f32>(Stats[2 * r], Stats[2 * r + 1]));
        }
        s += v;
      }
    }
    let total = workgroupSum(vec2<f32>(s, 0.0)).x;
    if (col < cols && localIndex == 0u) { setOutputAtIndex(col, total); }
  }`;

const epsUniform = (eps: number) => [{ type: 'float32', data: [eps] }];

/** x `[…, C]`, gamma and beta `[C]`, attr eps → y (x's shape). */
function layerNormForward(args: KernelArgs): tf.TensorInfo {
  const { x, gamma, beta } = args.inputs as Record<string, tf.TensorInfo>;
  const eps = (args.attrs as { eps: number }).eps;
  const backend = args.backend as unknown as WebGPUBackend;
  const [M, C] = rowsOf(x);
  const p = program(
    'mamLayerNorm',
    ['X', 'Gamma', 'Beta'],
    [M, C],
    M,
    layerNormForwardCode,
    'eps : f32,',
  );
  const out = backend.runWebGPUProgram(
    p,
    [view(x, [M, C]), gamma, beta],
    'float32',
    epsUniform(eps),
  );
  return view(out, [...x.shape]);
}

/**
 * dy and x `[…, C]`, gamma `[C]`, attr eps → dx, dγ, dβ: the rows' moments
 * `[M, 2]` from x (the forward saves only its inputs), then dx a workgroup a
 * row, then dγ and dβ a workgroup a column.
 */
function layerNormBackward(args: KernelArgs): tf.TensorInfo[] {
  const { dy, x, gamma } = args.inputs as Record<string, tf.TensorInfo>;
  const eps = (args.attrs as { eps: number }).eps;
  const backend = args.backend as unknown as WebGPUBackend;
  const [M, C] = rowsOf(x);
  const [x2, dy2] = [view(x, [M, C]), view(dy, [M, C])];
  const statsProgram = program('mamLayerNormStats', ['X'], [M, 2], M, rowStatsCode, 'eps : f32,');
  const stats = backend.runWebGPUProgram(statsProgram, [x2], 'float32', epsUniform(eps));
  const dxProgram = program(
    'mamLayerNormDx',
    ['X', 'Dy', 'Gamma', 'Stats'],
    [M, C],
    M,
    layerNormDxCode,
  );
  const dx = backend.runWebGPUProgram(dxProgram, [x2, dy2, gamma, stats], 'float32');
  // a program object a run: the backend rewrites its shaderKey into the pipeline cache's key
  const [dg, db] = [1, 0].map((withX) =>
    backend.runWebGPUProgram(
      program(
        'mamLayerNormColumns',
        ['X', 'Dy', 'Stats'],
        [C],
        C,
        layerNormColumnsCode,
        'withX : i32,',
      ),
      [x2, dy2, stats],
      'float32',
      [{ type: 'int32', data: [withX] }],
    ),
  );
  backend.disposeData(stats.dataId);
  return [view(dx, [...x.shape]), dg, db];
}

/** Φ(x) = ½(1 + erf(x/√2)) by Abramowitz–Stegun 7.1.26 (as wasm-gelu-simd.ts), and e^(−x²/2). */
const geluCdfCode = `
  fn cdfAndGauss(x : f32) -> vec2<f32> {
    let t = 1.0 / (1.0 + abs(x) * ${ERF_P * Math.SQRT1_2});
    let e = exp(-0.5 * x * x);
    let poly = ${[...ERF_A].reverse().reduce((acc, a) => `(${acc}) * t + ${a}`, '0.0')};
    let h = 0.5 * t * poly * e;
    return vec2<f32>(select(1.0 - h, h, x < 0.0), e);
  }`;

/** A program body computing `value` (WGSL, of v = X[index] and ce = (Φ(v), e^(−v²/2))) an element. */
const geluCode = (value: string) => `
  ${geluCdfCode}
  ${main} {
    if (index < uniforms.size) {
      let v = X[index];
      let ce = cdfAndGauss(v);
      setOutputAtIndex(index, ${value});
    }
  }`;

const geluForwardCode = geluCode('v * ce.x');
/** dy·(Φ(x) + x·φ(x)), φ(x) = e^(−x²/2)/√(2π). */
const geluBackwardCode = geluCode(`Dy[index] * (ce.x + v * ce.y * ${1 / Math.sqrt(2 * Math.PI)})`);

function elementwise(args: KernelArgs, name: string, names: string[], code: string) {
  const x = args.inputs.x as tf.TensorInfo;
  const backend = args.backend as unknown as WebGPUBackend;
  const n = tf.util.sizeFromShape(x.shape);
  const p = program(name, names, [n], Math.ceil(n / THREADS), code);
  const inputs = names.map((v) => view(args.inputs[v === 'X' ? 'x' : 'dy'] as tf.TensorInfo, [n]));
  return view(backend.runWebGPUProgram(p, inputs, 'float32'), [...x.shape]);
}

/** Registers the fused LayerNorm and GELU programs for the webgpu backend (idempotent). */
export function registerWebGpuFused(): void {
  const kernels: Record<string, tf.KernelFunc> = {
    [LAYER_NORM]: layerNormForward,
    [LAYER_NORM_GRAD]: layerNormBackward,
    [GELU]: (args) => elementwise(args, 'mamGelu', ['X'], geluForwardCode),
    [GELU_GRAD]: (args) => elementwise(args, 'mamGeluGrad', ['X', 'Dy'], geluBackwardCode),
  };
  for (const [kernelName, kernelFunc] of Object.entries(kernels))
    if (!tf.getKernel(kernelName, 'webgpu'))
      tf.registerKernel({ kernelName, backendName: 'webgpu', kernelFunc });
}
