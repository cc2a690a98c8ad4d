/**
 * run.json: what a run is (its graph, code and backend, seeds, data and
 * split, the protocol's settings). One builder for `mam train`'s run folder
 * and the editor's run zip, so `mam eval`, mam_torch's tools and the editor
 * read the same fields whichever of them trained the run.
 */
import type { BackendInfo } from '../backend/types.ts';
import { hashString } from '../compile/init.ts';
import type { ResizeRecord } from '../data/prepare.ts';
import type { Shape3 } from '../data/volume-crops.ts';
import type { GraphDoc } from '../graph/types.ts';
import type { TrainSettings } from '../train/checkpoint.ts';
import type { DataSplit } from '../train/samples.ts';
import { volumeSampling } from '../train/volume-batches.ts';

/** How every random draw of a TypeScript run is seeded (mam_torch writes its own). */
export const RNG_SCHEME = 'fnv1a(seed, purpose:step) → mulberry32';

export interface RunInfoInput {
  /** The graph file as run.json names it (an absolute path from the CLI, graph.json in a zip). */
  graphFile: string;
  graph: GraphDoc;
  weightsFingerprint: string;
  /** The code's version, e.g. "mam-studio 0.1.0" (absent: not known, as in a session no host named it). */
  code?: string;
  tfjs: string;
  /** The backend that trains (absent: not known, as in a session whose backend its host started). */
  backend?: BackendInfo;
  data: {
    source: string;
    fingerprint: string;
    splitRule: string;
    splits: DataSplit;
    classNames: string[];
    note?: string;
  };
  settings: TrainSettings;
  /** A 3D graph: its crop `[D, H, W]`; a 2D graph: its input, the training slices and how they were resized. */
  input: { crop: Shape3 } | { size: [number, number]; slices: number; resized: ResizeRecord[] };
}

/** The run.json object (JSON-ready; the caller adds nothing but its own part, e.g. the editor's). */
export function runInfo(i: RunInfoInput): Record<string, unknown> {
  const { settings, data } = i;
  const seed = settings.seed;
  const trainCases = data.splits.train;
  const { input, backend: b } = i;
  // what the samples are: crops of whole volumes, or (resized) slices
  const sampled =
    'crop' in input
      ? {
          counts: {
            trainVolumes: trainCases.length,
            crop: input.crop,
            sampling: volumeSampling(settings.batchSize, trainCases.length),
          },
          resize: {
            rule: 'crop',
            input: input.crop,
            sampler: 'RandCropByPosNegLabel pos 1 neg 1',
            validation: `sliding window, overlap ${settings.validationWindow?.overlap ?? 0.5}${settings.validationWindow ? `, sw_batch ${settings.validationWindow.batchSize}` : ''}, constant`,
          },
        }
      : {
          counts: { trainSlices: input.slices },
          resize: { rule: settings.resize ?? 'stretch', input: input.size, slices: input.resized },
        };
  // the data set's ScaleIntensityRange, which 'auto' applies to volumes (as mam_torch records it)
  const range =
    'crop' in input && settings.normalisation === 'auto'
      ? trainCases[0]?.channels[0]?.intensity
      : undefined;
  return {
    format: 'mam-studio/run',
    version: 1,
    updated: new Date().toISOString(),
    graph: {
      file: i.graphFile,
      title: i.graph.metadata?.title ?? '',
      weightsFingerprint: i.weightsFingerprint,
      documentHash: hashString(JSON.stringify(i.graph)).toString(16).padStart(8, '0'),
    },
    ...(i.code ? { code: i.code } : {}),
    tfjs: i.tfjs,
    ...(b
      ? {
          backend: {
            name: b.name,
            adapter: b.adapterInfo,
            software: b.isSoftware,
            ...(b.fallbackFrom ? { fallbackFrom: b.fallbackFrom } : {}),
          },
        }
      : {}),
    seeds: { init: seed, shuffle: seed, augment: seed, dropPath: seed, scheme: RNG_SCHEME },
    data: {
      source: data.source,
      fingerprint: data.fingerprint,
      splitRule: data.splitRule,
      split: {
        train: trainCases.map((c) => c.id),
        val: data.splits.val.map((c) => c.id),
        test: data.splits.test.map((c) => c.id),
      },
      ...sampled.counts,
      normalisation: settings.normalisation,
      ...(range
        ? {
            intensityRange: {
              a_min: range.aMin,
              a_max: range.aMax,
              b_min: range.bMin,
              b_max: range.bMax,
              clip: range.clip,
            },
          }
        : {}),
      resize: sampled.resize,
      classNames: data.classNames,
      ...(data.note ? { note: data.note } : {}),
    },
    metricConvention: settings.convention,
    settings,
  };
}
