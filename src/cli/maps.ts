/**
 * `mam maps <graph.json> --weights W --input x.nii.gz|x.npy --pixel ROW,COL
 * [--slice K] --out DIR`: for one pixel of one input slice, every attention
 * unit's map (src/analysis/maps.ts) as PNG over the image and as numbers in
 * maps.json.
 */
import * as path from 'node:path';
import * as tf from '#tfjs';
import { mapPictures, pngOf } from '../analysis/maps-png.ts';
import { pixelMaps } from '../analysis/maps.ts';
import { readNpy } from '../compile/io/npy.ts';
import { readNifti } from '../data/nifti.ts';
import { fitPlane, resizePlan } from '../data/prepare.ts';
import { normaliseVolume } from '../train/samples.ts';
import { makeOutputDir, writeOutput } from '../session/node-files.ts';
import { COMMON_FLAGS, type Parsed, type VerbSpec } from './args.ts';
import { EXIT_CODES, SessionError } from './errors.ts';
import { applyWeightsFile, compileGraphFile, readBytes, startBackend } from './load-model.ts';
import type { CliIO } from './main.ts';

export const MAPS_SPEC = {
  verb: 'maps',
  positionals: ['<graph.json>'],
  flags: {
    weights: {
      kind: 'string',
      value: '<w.safetensors>',
      help: "trained weights (default: the graph's seeded initialisation)",
    },
    input: {
      kind: 'string',
      value: '<x.nii.gz|x.npy>',
      required: true,
      help: 'a NIfTI volume (one axial slice is taken) or a float32 .npy image (H×W, H×W×C or N×H×W×C)',
    },
    pixel: {
      kind: 'string',
      value: '<ROW,COL>',
      required: true,
      help: "the pixel, on the graph's input grid",
    },
    slice: {
      kind: 'int',
      value: '<K>',
      min: 0,
      help: 'the axial slice of a NIfTI volume, or the image of an N×H×W×C .npy (default: the middle one / 0)',
    },
    out: {
      kind: 'string',
      value: '<dir>',
      required: true,
      help: 'where the PNGs and maps.json go',
    },
    backend: COMMON_FLAGS.backend,
  },
  summary: 'attention and memory maps of one pixel: PNGs over the image and maps.json',
} as const satisfies VerbSpec;

type MapsArgs = Parsed<typeof MAPS_SPEC>;

const bad = (message: string) => new SessionError(message, EXIT_CODES.badData);

/** ROW,COL as two whole numbers (a usage error naming --pixel otherwise). */
export function parsePixel(text: string): [number, number] {
  const m = /^\s*(\d+)\s*,\s*(\d+)\s*$/.exec(text);
  if (!m)
    throw new SessionError(
      `--pixel: '${text}' is not ROW,COL (two whole numbers, e.g. 64,40)`,
      EXIT_CODES.usage,
    );
  return [Number(m[1]), Number(m[2])];
}

interface InputSlice {
  /** H×W×C interleaved, on the graph's input grid. */
  image: Float32Array;
  note: string;
}

/** The input slice on the graph's grid [H, W, C]: NIfTI normalised and resized as training does; .npy as given. */
async function readInput(
  file: string,
  sliceArg: number | undefined,
  want: [number, number, number],
): Promise<InputSlice> {
  const bytes = await readBytes(file, 'input');
  const [H, W, C] = want;
  if (/\.nii(\.gz)?$/i.test(file)) {
    const r = readNifti(bytes, file);
    if (!r.ok) throw bad(r.message);
    const vol = r.value;
    const [w, h, d] = [vol.dims[0], vol.dims[1] ?? 1, vol.dims[2] ?? 1];
    const k = sliceArg ?? Math.floor(d / 2);
    if (k >= d) throw bad(`${file} has ${d} axial slices (0–${d - 1}); --slice ${k} is outside`);
    const norm = normaliseVolume(vol, 'auto');
    let plane: Float32Array = norm.slice(k * h * w, (k + 1) * h * w);
    let note = `slice ${k} of ${d}`;
    if (h !== H || w !== W) {
      plane = fitPlane(plane, resizePlan([h, w], [H, W], 'stretch'), 3);
      note += `, resized ${h}×${w} → ${H}×${W}`;
    }
    const image = new Float32Array(H * W * C);
    for (let i = 0; i < H * W; i++) for (let c = 0; c < C; c++) image[i * C + c] = plane[i];
    return { image, note };
  }
  let arr;
  try {
    arr = readNpy(bytes);
  } catch (e) {
    throw bad(`${file} ${(e as Error).message}`);
  }
  const s = arr.shape;
  const shape4 = s.length === 2 ? [1, s[0], s[1], 1] : s.length === 3 ? [1, ...s] : s;
  if (
    shape4.length !== 4 ||
    shape4[1] !== H ||
    shape4[2] !== W ||
    (shape4[3] !== C && shape4[3] !== 1)
  )
    throw bad(
      `${file} is ${s.join('×')}; the graph takes ${H}×${W}×${C} (H×W, H×W×C or N×H×W×C float32)`,
    );
  const n = sliceArg ?? 0;
  if (n >= shape4[0]) throw bad(`${file} holds ${shape4[0]} images; --slice ${n} is outside`);
  const per = H * W * shape4[3];
  const src = Float32Array.from(arr.data as ArrayLike<number> as ArrayLike<number>).subarray(
    n * per,
    (n + 1) * per,
  );
  const image = new Float32Array(H * W * C);
  for (let i = 0; i < H * W; i++)
    for (let c = 0; c < C; c++) image[i * C + c] = src[i * shape4[3] + (shape4[3] === 1 ? 0 : c)];
  return { image, note: `image ${n}` };
}

export async function mapsCommand(p: MapsArgs, { print, log }: CliIO): Promise<number> {
  const graphPath = p.positionals[0];
  const f = p.flags;
  const pixel = parsePixel(f.pixel as string);
  await startBackend(f.backend ?? 'auto', log);
  const { model, plan } = await compileGraphFile(graphPath);
  try {
    if (f.weights) await applyWeightsFile(model, f.weights, log);
    else log("no --weights given: the maps are of the graph's seeded initialisation (seed 0)");
    const [, H, W, C] = plan.input.shape;
    if (pixel[0] >= H || pixel[1] >= W)
      throw new SessionError(
        `--pixel ${pixel.join(',')} is outside the graph's ${H}×${W} input`,
        EXIT_CODES.usage,
      );
    const input = await readInput(f.input as string, f.slice, [H, W, C]);
    const x = tf.tensor4d(input.image, [1, H, W, C]);
    let maps;
    try {
      maps = pixelMaps(model, x, pixel);
    } finally {
      x.dispose();
    }
    if (!maps.units.length)
      throw new SessionError(
        `${graphPath} has no attention units on a 2D grid to map`,
        EXIT_CODES.graphErrors,
      );
    const out = f.out as string;
    await makeOutputDir(out, 'maps folder');
    const gray = new Float32Array(H * W);
    for (let i = 0; i < H * W; i++) gray[i] = input.image[i * C];
    const pictures = mapPictures(maps, gray);
    for (const [name, pic] of pictures) await writeOutput(path.join(out, name), pngOf(pic), 'map');
    await writeOutput(
      path.join(out, 'maps.json'),
      JSON.stringify(
        {
          format: 'mam-studio/maps',
          version: 1,
          graph: path.resolve(graphPath),
          weights: f.weights ? path.resolve(f.weights) : null,
          input: { file: path.resolve(f.input as string), what: input.note },
          ...maps,
          files: [...pictures.keys()],
        },
        null,
        1,
      ) + '\n',
      'maps',
    );
    print(
      `${maps.units.length} attention units mapped at pixel ${pixel.join(',')} (${input.note}): ${pictures.size} PNGs and maps.json in ${out}`,
    );
    return EXIT_CODES.ok;
  } finally {
    model.dispose();
  }
}
