/**
 * The embedded demo sets, one subject's T1 brain with 7 lobar classes + background:
 * data/demo (scripts/make-demo-data.py), axial 128×128 slices split by z slabs, and
 * data/demo3d (scripts/make-demo3d-data.py), three whole brains at 2.5 mm, each the subject
 * under its own seeded deformation (train, val, test). Both have the same dataset.json layout and load with `loadDemo`.
 * Node: `loadDemo(nodeFileSource(demoDataDir()))` (see node-fs.ts). Browser or worker:
 * `loadDemoFromUrl(url)` with the URL the app serves data/demo/ at.
 */
import { type FileSource, urlFileSource } from './files.ts';
import { readNifti } from './nifti.ts';
import { toLabelVolume } from './dataset.ts';
import { type Case, type Result, fail, formatDims, ok } from './types.ts';
import { intensityRangeOf, type IntensityRange } from './volume-crops.ts';

export type DemoSplit = 'train' | 'val' | 'test';
export const DEMO_SPLITS: readonly DemoSplit[] = ['train', 'val', 'test'];

export interface DemoSplitInfo {
  /** Slices along k (the 3D demo: its volume's axial planes). */
  slices: number;
  /** The 2D demo: the ch2 planes its slices came from. */
  z_ranges?: number[][];
  /** The 3D demo (data/demo3d): the volume's dims, NIfTI order (i, j, k). */
  shape?: number[];
  classes_present: string[];
  voxels_per_class: Record<string, number>;
  slices_per_class: Record<string, number>;
}

export interface DemoMeta {
  name: string;
  /** "single-subject demo, not a benchmark": show it wherever demo metrics show. */
  note: string;
  classes: string[];
  files: Record<string, string>;
  splits: Record<DemoSplit, DemoSplitInfo>;
  source: { package: string; license: string; copyright: string; version?: string };
  [key: string]: unknown;
}

export interface DemoDataSet {
  classNames: string[];
  note: string;
  meta: DemoMeta;
  /**
   * One case per split: for data/demo a 128×128×N stack of axial slices (slice k is
   * the k-th along axis 2); for data/demo3d one whole brain.
   */
  splits: Record<DemoSplit, Case>;
}

export async function loadDemo(src: FileSource): Promise<Result<DemoDataSet>> {
  const metaBytes = await src.read('dataset.json');
  if (!metaBytes) return fail('demo data: dataset.json not found', 'dataset.json');
  let meta: DemoMeta;
  try {
    meta = JSON.parse(new TextDecoder().decode(metaBytes)) as DemoMeta;
  } catch (e) {
    return fail(
      `demo data: dataset.json is not valid JSON (${e instanceof Error ? e.message : String(e)})`,
      'dataset.json',
    );
  }
  if (!Array.isArray(meta.classes) || !meta.files || !meta.splits) {
    return fail('demo data: dataset.json lacks classes, files or splits', 'dataset.json');
  }
  let intensity: IntensityRange | undefined;
  if (meta.intensity_range !== undefined) {
    const r = intensityRangeOf(meta.intensity_range, 'dataset.json');
    if (!r.ok) return fail(`demo data: ${r.message}`, 'dataset.json');
    intensity = r.value;
  }
  const splits = {} as Record<DemoSplit, Case>;
  for (const split of DEMO_SPLITS) {
    const imgName = meta.files[`image_${split}`];
    const lblName = meta.files[`label_${split}`];
    if (!imgName || !lblName)
      return fail(`demo data: dataset.json names no files for split ${split}`, 'dataset.json');
    const ib = await src.read(imgName);
    const lb = await src.read(lblName);
    if (!ib) return fail(`demo data: ${imgName} cannot be read`, imgName);
    if (!lb) return fail(`demo data: ${lblName} cannot be read`, lblName);
    const im = readNifti(ib, imgName);
    if (!im.ok) return im;
    const lv = readNifti(lb, lblName);
    if (!lv.ok) return lv;
    const label = toLabelVolume(lv.value, lblName);
    if (!label.ok) return label;
    if (formatDims(label.value.dims) !== formatDims(im.value.dims.slice(0, 3))) {
      return fail(
        `demo data: ${imgName} is ${formatDims(im.value.dims)} but ${lblName} is ${formatDims(label.value.dims)}`,
        lblName,
      );
    }
    splits[split] = {
      id: `demo-${split}`,
      channels: [intensity ? { ...im.value, intensity } : im.value],
      label: label.value,
      files: [imgName, lblName],
    };
  }
  return ok({ classNames: meta.classes, note: meta.note, meta, splits });
}

/** Browser / worker: fetch the demo from `baseUrl` (the folder holding dataset.json). */
export async function loadDemoFromUrl(
  baseUrl: string,
  fetchImpl: typeof fetch = fetch,
): Promise<Result<DemoDataSet>> {
  const base = baseUrl.endsWith('/') ? baseUrl : `${baseUrl}/`;
  let meta: DemoMeta;
  try {
    const res = await fetchImpl(`${base}dataset.json`);
    if (!res.ok)
      return fail(`demo data: ${base}dataset.json answered HTTP ${res.status}`, 'dataset.json');
    meta = (await res.json()) as DemoMeta;
  } catch (e) {
    return fail(
      `demo data: cannot fetch ${base}dataset.json (${e instanceof Error ? e.message : String(e)})`,
      'dataset.json',
    );
  }
  const manifest = ['dataset.json', ...Object.values(meta.files ?? {})];
  return loadDemo(urlFileSource(base, manifest, fetchImpl));
}
