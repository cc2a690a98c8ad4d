/**
 * Data set loaders for the layouts people have on disk, all returning values:
 * - NIfTI folders: nnU-Net / Decathlon (`imagesTr/case_0000.nii.gz`, `case_0001…` per
 *   channel, or one 4D file; labels in `labelsTr/case.nii.gz`), or plain `images/` + `labels/`;
 * - PNG image + mask folders matched by name;
 * - the Synapse preprocessed layout (train slices `.npz`, test volumes `.npy.h5`, list files).
 * Class names come from `classes.json` / `dataset.json` beside the folders.
 */
import { type FileSource, joinPath } from './files.ts';
import { readH5Datasets } from './h5.ts';
import { readNifti } from './nifti.ts';
import { type NpyArray, parseNpz } from './npy.ts';
import { decodePngGray, decodePngLabels } from './png.ts';
import {
  type Case,
  type DataIssue,
  type DataProblem,
  type DataSet,
  type DataSetResult,
  type LabelVolume,
  type Result,
  type Volume,
  fail,
  formatDims,
  identityAffine,
  ok,
  voxelCount,
} from './types.ts';

export { SYNAPSE_CLASSES } from '../graph/classes.ts';
import { SYNAPSE_CLASSES } from '../graph/classes.ts';
import { intensityRangeOf, type IntensityRange } from './volume-crops.ts';

/**
 * A class table from JSON: `["background", "liver", …]`, `{"classes": [...]}`,
 * Decathlon `{"labels": {"0": "background", "1": "liver"}}` or nnU-Net v2
 * `{"labels": {"background": 0, "liver": 1}}`.
 */
export function parseClassTable(text: string, name = 'classes.json'): Result<string[]> {
  let j: unknown;
  try {
    j = JSON.parse(text);
  } catch (e) {
    return fail(`${name} is not valid JSON: ${e instanceof Error ? e.message : String(e)}`, name);
  }
  const fromList = (xs: unknown): Result<string[]> =>
    Array.isArray(xs) && xs.length > 0 && xs.every((x) => typeof x === 'string')
      ? ok(xs as string[])
      : fail(`${name}: the class list must be a non-empty list of names`, name);
  if (Array.isArray(j)) return fromList(j);
  if (j && typeof j === 'object') {
    const o = j as Record<string, unknown>;
    if ('classes' in o) return fromList(o.classes);
    if ('classNames' in o) return fromList(o.classNames);
    const labels = o.labels;
    if (labels && typeof labels === 'object' && !Array.isArray(labels)) {
      const entries = Object.entries(labels as Record<string, unknown>);
      const pairs: [number, string][] = [];
      for (const [k, v] of entries) {
        if (/^\d+$/.test(k) && typeof v === 'string') pairs.push([Number(k), v]);
        else if (typeof v === 'number' && Number.isInteger(v)) pairs.push([v, k]);
        else return fail(`${name}: label entry "${k}" is neither index→name nor name→index`, name);
      }
      pairs.sort((a, b) => a[0] - b[0]);
      if (pairs.some(([i], k) => i !== k)) {
        return fail(
          `${name}: label indices must run 0, 1, 2, … without gaps (found ${pairs.map((p) => p[0]).join(', ')})`,
          name,
        );
      }
      return ok(pairs.map((p) => p[1]));
    }
    if (Array.isArray(labels)) return fromList(labels);
  }
  return fail(`${name} holds no class list ("classes": [...] or "labels": {...})`, name);
}

/**
 * Float label values → Uint8, refusing non-integers and negatives (kind 'bad')
 * and values above 255, which no class table holds (kind 'labelRange').
 */
export function toLabelVolume(
  v: Volume,
  file: string,
):
  | { ok: true; value: LabelVolume }
  | { ok: false; message: string; file: string; kind: DataProblem } {
  const n = v.data.length;
  const out = new Uint8Array(n);
  for (let i = 0; i < n; i++) {
    const x = v.data[i];
    if (Math.round(x) === x && x > 255)
      return {
        ok: false,
        message: `${file} holds label ${x} (voxel ${i}), outside any class table (labels run 0–255)`,
        file,
        kind: 'labelRange',
      };
    if (!(x >= 0 && x <= 255) || Math.round(x) !== x) {
      return {
        ok: false,
        message: `${file} holds label value ${x} at voxel ${i}; labels must be whole numbers 0–255`,
        file,
        kind: 'bad',
      };
    }
    out[i] = x;
  }
  return ok({ data: out, dims: v.dims.slice(0, 3), spacing: v.spacing.slice(), affine: v.affine });
}

/** Split a 4D volume into its 3D channels (a 3D volume is one channel). */
export function splitChannels(v: Volume): Volume[] {
  if (v.dims.length <= 3) return [v];
  const spatial = v.dims.slice(0, 3);
  const n = voxelCount(spatial);
  const c = voxelCount(v.dims.slice(3));
  return Array.from({ length: c }, (_, k) => ({
    ...v,
    dims: spatial,
    data: v.data.slice(k * n, (k + 1) * n),
  }));
}

function sameGrid(a: number[], b: number[]): boolean {
  const pad = (d: number[]) => [...d, 1, 1, 1].slice(0, 3);
  const pa = pad(a);
  const pb = pad(b);
  return pa.every((x, i) => x === pb[i]);
}

/** Check one case against the class table; every issue names its file. */
export function validateCase(c: Case, classNames: readonly string[]): DataIssue[] {
  const issues: DataIssue[] = [];
  const first = c.channels[0];
  if (!first) return [{ file: c.files[0] ?? c.id, message: `case ${c.id} has no image` }];
  c.channels.forEach((ch, k) => {
    if (k > 0 && !sameGrid(ch.dims, first.dims)) {
      issues.push({
        file: c.files[k] ?? c.id,
        message: `${c.files[k] ?? c.id} (channel ${k}) is ${formatDims(ch.dims)} but channel 0 is ${formatDims(first.dims)}`,
        kind: 'sizeMismatch',
      });
    }
  });
  if (c.label) {
    const lf = c.files[c.files.length - 1] ?? c.id;
    if (!sameGrid(c.label.dims, first.dims)) {
      issues.push({
        file: lf,
        message: `${c.files[0]} is ${formatDims(first.dims)} but ${lf} is ${formatDims(c.label.dims)}`,
        kind: 'sizeMismatch',
      });
    } else {
      const { max, at } = largestLabel(c.label.data);
      if (max >= classNames.length) {
        issues.push({
          file: lf,
          message: `${lf} holds label ${max} (voxel ${at}), outside the class table 0–${classNames.length - 1} (${classNames.length} classes)`,
          kind: 'labelRange',
        });
      }
    }
  }
  return issues;
}

async function readClassTable(
  src: FileSource,
  root: string,
  issues: DataIssue[],
): Promise<string[] | null> {
  for (const f of ['classes.json', 'dataset.json']) {
    const bytes = await src.read(joinPath(root, f));
    if (!bytes) continue;
    const r = parseClassTable(new TextDecoder().decode(bytes), joinPath(root, f));
    if (r.ok) return r.value;
    if (f === 'classes.json') issues.push({ file: joinPath(root, f), message: r.message });
  }
  return null;
}

/**
 * dataset.json's `intensity_range` ({a_min, a_max, b_min, b_max, clip}, MONAI's
 * ScaleIntensityRanged), which the 'auto' normalisation then applies; null
 * when there is none, an issue naming the file when it is malformed.
 */
async function readIntensityRange(
  src: FileSource,
  root: string,
  issues: DataIssue[],
): Promise<IntensityRange | null> {
  const file = joinPath(root, 'dataset.json');
  const bytes = await src.read(file);
  if (!bytes) return null;
  let meta: unknown;
  try {
    meta = JSON.parse(new TextDecoder().decode(bytes));
  } catch {
    return null; // the class table's reader says what is wrong with it
  }
  const raw = (meta as Record<string, unknown> | null)?.intensity_range;
  if (raw === undefined) return null;
  const r = intensityRangeOf(raw, file);
  if (r.ok) return r.value;
  issues.push({ file, message: r.message });
  return null;
}

function maxLabel(cases: Case[]): number {
  let m = 0;
  for (const c of cases) if (c.label) for (const v of c.label.data) if (v > m) m = v;
  return m;
}

function finish(
  cases: Case[],
  classes: string[] | null,
  issues: DataIssue[],
  warnings: DataIssue[],
  source: string,
  root: string,
): DataSetResult {
  let classNames = classes;
  if (!classNames) {
    const m = maxLabel(cases);
    classNames = ['background', ...Array.from({ length: m }, (_, i) => `class ${i + 1}`)];
    warnings.push({
      file: joinPath(root, 'classes.json'),
      message: `no classes.json in ${root || 'the root folder'}: named ${m} classes by number`,
      warning: 'classesByNumber',
    });
  }
  for (const c of cases) issues.push(...validateCase(c, classNames));
  if (issues.length > 0) {
    return {
      ok: false,
      message:
        issues.length === 1
          ? issues[0].message
          : `${issues.length} problems, first: ${issues[0].message}`,
      issues,
    };
  }
  const value: DataSet = {
    cases,
    classNames,
    spacing: cases[0]?.channels[0]?.spacing ?? [1, 1, 1],
    source,
  };
  return { ok: true, value, warnings };
}

const NIFTI_RE = /\.nii(\.gz)?$/i;
const CHANNEL_RE = /^(.*)_(\d{4})\.nii(\.gz)?$/i;

async function firstExistingDir(
  src: FileSource,
  root: string,
  names: string[],
): Promise<string | null> {
  for (const n of names) {
    const d = joinPath(root, n);
    if ((await src.list(d)).length > 0) return d;
  }
  return null;
}

export interface NiftiFolderOptions {
  /** Image folder names to try (default imagesTr, images, imagesTs). */
  imageDirs?: string[];
  /** Label folder names to try (default labelsTr, labels, labelsTs). */
  labelDirs?: string[];
  /** Require a label for every case (default true). */
  requireLabels?: boolean;
}

/** nnU-Net / Decathlon / plain NIfTI folders. */
export async function loadNiftiFolder(
  src: FileSource,
  root = '',
  opts: NiftiFolderOptions = {},
): Promise<DataSetResult> {
  const issues: DataIssue[] = [];
  const warnings: DataIssue[] = [];
  const imgDir = await firstExistingDir(
    src,
    root,
    opts.imageDirs ?? ['imagesTr', 'images', 'imagesTs'],
  );
  if (!imgDir) {
    const where = root || 'the chosen folder';
    const msg = `empty folder: ${where} has no imagesTr/ or images/ folder with .nii/.nii.gz files`;
    return { ok: false, message: msg, issues: [{ file: where, message: msg, kind: 'empty' }] };
  }
  const names = (await src.list(imgDir)).filter((n) => NIFTI_RE.test(n));
  if (names.length === 0) {
    const msg = `empty folder: ${imgDir} holds no .nii/.nii.gz files`;
    return { ok: false, message: msg, issues: [{ file: imgDir, message: msg, kind: 'empty' }] };
  }
  // group channel files by case id
  const groups = new Map<string, { channel: number; name: string }[]>();
  for (const n of names) {
    const m = CHANNEL_RE.exec(n);
    const id = m ? m[1] : n.replace(NIFTI_RE, '');
    const channel = m ? Number(m[2]) : 0;
    const g = groups.get(id) ?? [];
    g.push({ channel, name: n });
    groups.set(id, g);
  }
  const lblDir = await firstExistingDir(
    src,
    root,
    opts.labelDirs ?? ['labelsTr', 'labels', 'labelsTs'],
  );
  const labelNames = new Set(
    lblDir ? (await src.list(lblDir)).filter((n) => NIFTI_RE.test(n)) : [],
  );
  const requireLabels = opts.requireLabels ?? true;
  const cases: Case[] = [];
  for (const [id, files] of [...groups.entries()].sort((a, b) => a[0].localeCompare(b[0]))) {
    files.sort((a, b) => a.channel - b.channel);
    const gap = files.findIndex((f, k) => f.channel !== k);
    if (gap >= 0) {
      const file = joinPath(imgDir, files[gap].name);
      issues.push({
        file,
        message: `case ${id}: channel files must be numbered _0000, _0001, … without gaps; found ${files.map((f) => f.name).join(', ')}`,
      });
      continue;
    }
    const channels: Volume[] = [];
    const paths: string[] = [];
    let bad = false;
    for (const f of files) {
      const path = joinPath(imgDir, f.name);
      const r = await readVolume(src, path);
      if (!r.ok) {
        issues.push({ file: path, message: r.message });
        bad = true;
        continue;
      }
      channels.push(...splitChannels(r.value));
      paths.push(path);
    }
    if (bad) continue;
    let label: LabelVolume | null = null;
    const lname = [`${id}.nii.gz`, `${id}.nii`].find((n) => labelNames.has(n));
    if (lname && lblDir) {
      const lpath = joinPath(lblDir, lname);
      const r = await readVolume(src, lpath);
      if (!r.ok) {
        issues.push({ file: lpath, message: r.message });
        continue;
      }
      const lv = toLabelVolume(r.value, lpath);
      if (!lv.ok) {
        issues.push({ file: lpath, message: lv.message, kind: lv.kind });
        continue;
      }
      label = lv.value;
      paths.push(lpath);
    } else if (requireLabels) {
      const expected = joinPath(lblDir ?? joinPath(root, 'labelsTr'), `${id}.nii.gz`);
      issues.push({
        file: expected,
        message: `case ${id} has no label file (looked for ${expected})`,
      });
      continue;
    }
    cases.push({ id, channels, label, files: paths });
  }
  const classes = await readClassTable(src, root, issues);
  const range = await readIntensityRange(src, root, issues);
  if (range)
    for (const c of cases) c.channels = c.channels.map((v) => ({ ...v, intensity: range }));
  return finish(cases, classes, issues, warnings, `NIfTI folder ${root || '.'}`, root);
}

async function readVolume(src: FileSource, path: string): Promise<Result<Volume>> {
  const bytes = await src.read(path);
  if (!bytes) return fail(`${path} cannot be read`, path);
  return readNifti(bytes, path);
}

const PNG_RE = /\.png$/i;

/** PNG images and masks matched by file name (`images/x.png` ↔ `masks/x.png` or `labels/x.png`). */
export async function loadPngFolder(src: FileSource, root = ''): Promise<DataSetResult> {
  const issues: DataIssue[] = [];
  const warnings: DataIssue[] = [];
  const imgDir = await firstExistingDir(src, root, ['images', 'imgs', 'image']);
  const maskDir = await firstExistingDir(src, root, ['masks', 'labels', 'mask', 'label']);
  const where = root || 'the chosen folder';
  if (!imgDir) {
    const msg = `empty folder: ${where} has no images/ folder with .png files`;
    return { ok: false, message: msg, issues: [{ file: where, message: msg, kind: 'empty' }] };
  }
  const imgs = (await src.list(imgDir)).filter((n) => PNG_RE.test(n));
  if (imgs.length === 0) {
    const msg = `empty folder: ${imgDir} holds no .png files`;
    return { ok: false, message: msg, issues: [{ file: imgDir, message: msg, kind: 'empty' }] };
  }
  if (!maskDir) {
    const msg = `${where} has no masks/ (or labels/) folder beside ${imgDir}`;
    return { ok: false, message: msg, issues: [{ file: where, message: msg }] };
  }
  const masks = new Set((await src.list(maskDir)).filter((n) => PNG_RE.test(n)));
  const cases: Case[] = [];
  for (const name of imgs) {
    const ipath = joinPath(imgDir, name);
    const mpath = joinPath(maskDir, name);
    if (!masks.has(name)) {
      issues.push({ file: ipath, message: `${ipath} has no mask: expected ${mpath}` });
      continue;
    }
    const ib = await src.read(ipath);
    const mb = await src.read(mpath);
    if (!ib || !mb) {
      issues.push({ file: ib ? mpath : ipath, message: `${ib ? mpath : ipath} cannot be read` });
      continue;
    }
    const im = decodePngGray(ib, ipath);
    const mk = decodePngLabels(mb, mpath);
    if (!im.ok || !mk.ok) {
      if (!im.ok) issues.push({ file: ipath, message: im.message });
      if (!mk.ok) issues.push({ file: mpath, message: mk.message });
      continue;
    }
    const affine = identityAffine();
    const dims = [im.value.width, im.value.height, 1];
    cases.push({
      id: name.replace(PNG_RE, ''),
      channels: [{ data: im.value.data, dims, spacing: [1, 1, 1], affine, datatype: 'float32' }],
      label: {
        data: mk.value.data,
        dims: [mk.value.width, mk.value.height, 1],
        spacing: [1, 1, 1],
        affine,
      },
      files: [ipath, mpath],
    });
  }
  for (const m of masks)
    if (!imgs.includes(m))
      warnings.push({
        file: joinPath(maskDir, m),
        message: `${joinPath(maskDir, m)} has no image; ignored`,
      });
  const classes = await readClassTable(src, root, issues);
  return finish(cases, classes, issues, warnings, `PNG folder ${root || '.'}`, root);
}

/** A NumPy (…, H, W) array as a volume with fastest-first dims [W, H, D]. */
function npyToVolume(a: NpyArray, file: string): Result<Volume> {
  if (a.shape.length < 2 || a.shape.length > 3) {
    return fail(
      `${file}: expected a 2D (H, W) or 3D (D, H, W) array, got shape (${a.shape.join(', ')})`,
      file,
    );
  }
  const dims = [...a.shape].reverse();
  while (dims.length < 3) dims.push(1);
  const data =
    a.data instanceof Float32Array || a.data instanceof Float64Array
      ? a.data
      : Float32Array.from(a.data);
  return ok({ data, dims, spacing: [1, 1, 1], affine: identityAffine(), datatype: 'float32' });
}

async function readListFile(
  src: FileSource,
  root: string,
  name: string,
): Promise<{ path: string; ids: string[] } | null> {
  for (const dir of ['', 'lists/lists_Synapse', 'lists_Synapse', 'lists']) {
    const path = joinPath(root, dir, name);
    const b = await src.read(path);
    if (b) {
      const ids = new TextDecoder()
        .decode(b)
        .split(/\r?\n/)
        .map((s) => s.trim())
        .filter((s) => s.length > 0);
      return { path, ids };
    }
  }
  return null;
}

export interface SynapseOptions {
  split: 'train' | 'test';
  /** Only the first n cases of the list (quick looks). */
  limit?: number;
}

/**
 * The Synapse preprocessed layout (TransUNet/Swin-Unet): `train_npz/<id>.npz` with `image`
 * and `label` (H, W) listed in `train.txt`; `test_vol_h5/<id>.npy.h5` with (D, H, W) arrays
 * listed in `test_vol.txt`. List files are looked for in the root and in lists/lists_Synapse.
 */
export async function loadSynapse(
  src: FileSource,
  root: string,
  opts: SynapseOptions,
): Promise<DataSetResult> {
  const issues: DataIssue[] = [];
  const warnings: DataIssue[] = [];
  const listName = opts.split === 'train' ? 'train.txt' : 'test_vol.txt';
  const list = await readListFile(src, root, listName);
  if (!list) {
    const msg = `${joinPath(root, listName)} not found (also looked in lists/lists_Synapse/)`;
    return { ok: false, message: msg, issues: [{ file: joinPath(root, listName), message: msg }] };
  }
  if (list.ids.length === 0) {
    const msg = `empty list: ${list.path} names no cases`;
    return { ok: false, message: msg, issues: [{ file: list.path, message: msg, kind: 'empty' }] };
  }
  const ids = opts.limit ? list.ids.slice(0, opts.limit) : list.ids;
  const cases: Case[] = [];
  for (const id of ids) {
    const path =
      opts.split === 'train'
        ? joinPath(root, 'train_npz', `${id}.npz`)
        : joinPath(root, 'test_vol_h5', `${id}.npy.h5`);
    const bytes = await src.read(path);
    if (!bytes) {
      issues.push({ file: path, message: `${path} (listed in ${list.path}) cannot be read` });
      continue;
    }
    let arrays: Result<Record<string, NpyArray>>;
    if (opts.split === 'train') {
      arrays = parseNpz(bytes, path);
      if (arrays.ok) {
        const missing = ['image', 'label'].filter(
          (k) => !(k in (arrays as { value: Record<string, NpyArray> }).value),
        );
        if (missing.length) arrays = fail(`${path} has no ${missing.join(' or ')} array`, path);
      }
    } else {
      arrays = await readH5Datasets(bytes, ['image', 'label'], path);
    }
    if (!arrays.ok) {
      issues.push({ file: path, message: arrays.message });
      continue;
    }
    const im = npyToVolume(arrays.value.image, path);
    const lb = npyToVolume(arrays.value.label, path);
    if (!im.ok || !lb.ok) {
      issues.push({ file: path, message: (!im.ok ? im : (lb as { message: string })).message });
      continue;
    }
    const lv = toLabelVolume(lb.value, `${path}:label`);
    if (!lv.ok) {
      issues.push({ file: path, message: lv.message, kind: lv.kind });
      continue;
    }
    cases.push({
      id,
      channels: [im.value],
      label: lv.value,
      files: [`${path}:image`, `${path}:label`],
    });
  }
  const classes = (await readClassTable(src, root, issues)) ?? SYNAPSE_CLASSES.slice();
  return finish(cases, classes, issues, warnings, `Synapse ${opts.split} ${root || '.'}`, root);
}

/** The largest label value of a map and the first voxel holding it (to name it in a message). */
export function largestLabel(data: ArrayLike<number>): { max: number; at: number } {
  let max = 0;
  let at = -1;
  for (let i = 0; i < data.length; i++) {
    if (data[i] > max) {
      max = data[i];
      at = i;
    }
  }
  return { max, at };
}
