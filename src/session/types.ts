/**
 * What the session answers and emits: the replies of compile, restore,
 * import, evaluate and predict, and the events of a run. The editor's worker
 * passes them to the page as they are (editor/worker/api.ts re-exports them).
 */
import type { BackendInfo } from '../backend/types.ts';
import type { GraphIssue } from '../graph/types.ts';
import type { EmptyRule, MetricConvention } from '../train/metrics.ts';
import type { DemoSplit } from '../data/demo.ts';

export interface TrainPanelSettings {
  /** Steps to train: epochs × steps per epoch unless `steps` is given. */
  epochs: number;
  /** When > 0, overrides epochs. */
  steps: number;
  batchSize: number;
  /** Base learning rate; SGD's is at batch 24 and scaled by batch/24 (the reference rule). */
  learningRate: number;
  optimizer: 'sgd' | 'adamw';
  seed: number;
  /** Validate every N steps (0: once per epoch). */
  valEvery: number;
  convention: MetricConvention;
  augment: boolean;
}

/** What the weights are after a (re)compile: kept from the previous model or new. */
export interface WeightsSummary {
  tensors: number;
  parameters: number;
  /** Weights whose key (node id/weight name) and shape survived the last recompile. */
  kept: number;
  /** Weights initialised afresh at the last recompile (new keys or new shapes). */
  reinitialised: number;
  /** Weights of the previous model that the new one has no place for. */
  dropped: number;
  /** A digest of every weight's values: equal digests, equal weights (to float rounding of sums). */
  digest: string;
  fingerprint: string;
  /** Where the values come from, in words (initialised, trained 40 steps, imported file.safetensors). */
  origin: string;
}

export interface DataInfo {
  source: string;
  classNames: string[];
  note?: string;
  trainSlices: number;
  splits: Record<DemoSplit, { slices: number; classesPresent: string[] }>;
  /** A folder the user opened: its cases, split and problems (absent for the demo). */
  folder?: DataSummary;
  /** The 3D demo's volumes, one per split, as the panel lists them (absent for the 2D demo and folders). */
  cases?: CaseSummary[];
}

/** A file the user picked or dropped, by its path relative to what was picked ("scans/images/a.nii.gz"). */
export interface PickedFile {
  path: string;
  /** A File on the page; the worker reads its bytes. */
  file: { arrayBuffer(): Promise<ArrayBuffer> };
}

/** Opening a folder: its data, or every problem found (each naming its file), the data before kept. */
export type DataOpenReply =
  | { ok: true; info: DataInfo }
  | { ok: false; name: string; errors: { file: string; message: string }[] };

/** One case of an opened folder as the data panel lists it. */
export interface CaseSummary {
  id: string;
  split: DemoSplit | 'unused';
  /** Voxel grid, fastest axis first (NIfTI order). */
  dims: number[];
  spacing: number[];
  channels: number;
  /** The label values found, ascending. */
  labelValues: number[];
  files: string[];
}

/** What the data panel shows of an opened folder: what was found, and what does not fit the graph. */
export interface DataSummary {
  /** The folder's name (the one picked or dropped). */
  name: string;
  source: string;
  splitRule: string;
  seed: number;
  /** The folder's class table (empty: none, the graph's names are used). */
  classNames: string[];
  cases: CaseSummary[];
  /** Problems that stop training, each naming its file. */
  errors: { file: string; message: string }[];
  /** Things said but not stopping training (resizing from → to, class names that differ). */
  warnings: string[];
}

export interface HistoryPoint {
  /** Step over the whole session (runs after the first continue the count). */
  step: number;
  loss: number;
  lr: number;
}

export interface ValidationPoint {
  step: number;
  meanDice: number;
  convention: MetricConvention;
}

export interface EvalResult {
  split: DemoSplit;
  convention: MetricConvention;
  hd95Unit: 'voxel' | 'mm';
  perClass: { name: string; dice: number; hd95: number; rule: EmptyRule }[];
  meanDice: number;
  meanHd95: number;
  classesPresent: string[];
  note?: string;
  /** Step of the weights that were evaluated. */
  step: number;
  seconds: number;
}

export interface Preview {
  split: DemoSplit;
  index: number;
  slices: number;
  /** The case the slice is from. */
  caseId?: string;
  width: number;
  height: number;
  /** Intensities in [0, 1], row-major, one channel. */
  image: Float32Array;
  label: Uint8Array;
  pred: Uint8Array;
  classNames: string[];
  step: number;
  /** The file a download of the case's prediction gives (a PNG mask for PNG input). */
  predictionFormat?: 'nii.gz' | 'png';
}

export type CompileReply =
  | {
      ok: true;
      weights: WeightsSummary;
      classNames: string[];
      inputShape: number[];
      canResume: boolean;
    }
  | { ok: false; errors: GraphIssue[]; weightsKept: boolean };

/** The run stored in this browser, brought back after a reload (or why not). */
export type RestoreReply =
  | { status: 'none' }
  /** A stored run of another graph stays stored (it comes back when that graph is compiled); an unreadable one does not. */
  | {
      status: 'not-restored';
      reason: 'other-graph' | 'unreadable';
      message: string;
      /** The compile key of the stored run's graph, when it is another graph's. */
      graphKey?: string;
    }
  | {
      status: 'restored';
      weights: WeightsSummary;
      step: number;
      history: HistoryPoint[];
      validations: ValidationPoint[];
      evaluation?: EvalResult;
      settings?: TrainPanelSettings;
      /** The last run's position in its schedule, when it has a checkpoint. */
      run?: { runStep: number; totalSteps: number; epoch: number };
      canResume: boolean;
      /** Why Resume cannot continue the run's checkpoint (another engine trained it), when so. */
      resumeRefusal?: string;
      /** What the run trained on, in words (a run resumes only on the same data). */
      dataSource?: string;
      savedAt: number;
    };

export type ImportReply =
  { ok: true; message: string; weights: WeightsSummary } | { ok: false; message: string };

export type TrainEventMessage =
  | {
      type: 'step';
      step: number;
      runStep: number;
      totalSteps: number;
      epoch: number;
      loss: number;
      lr: number;
      imagesPerSec: number;
      etaSec: number;
      /** tf.memory().numTensors in the worker after this step: flat across steps, or a leak. */
      numTensors: number;
    }
  | {
      type: 'persisted';
      /** Session step of the saved state. */
      step: number;
      bytes: number;
      ms: number;
      /** Set when the save failed: training goes on, the stored run is the previous one. */
      error?: string;
    }
  | { type: 'validation'; point: ValidationPoint; perClass: Record<string, number> }
  | {
      type: 'done';
      reason: 'completed' | 'aborted' | 'early-stop' | 'diverged' | 'failed';
      message?: string;
      step: number;
      weights: WeightsSummary;
      canResume: boolean;
    };

export type { BackendInfo };
