/**
 * What the page knows of the training worker: its API type (the worker's
 * own class, so a change on one side is a type error on the other) and the
 * session's types and pure rules it shows. The page imports the session only
 * through this file (the boundary lint says so); nothing here loads tfjs.
 */
export type { TrainWorker } from './train-worker.ts';
export type { SessionEvent, SplitName, StartReply } from '../../src/session/session.ts';
export type * from '../../src/session/types.ts';
export { compileKey } from '../../src/session/run-store.ts';
export type { RunSummary } from '../../src/session/run-store.ts';
export type { RunDetails, RunTable } from '../../src/session/run-compare.ts';
export {
  panelDefaults,
  panelOverrides,
  resolveRun,
  resolveVolumeRun,
  volumeInputOfDoc,
} from '../../src/session/settings.ts';
export type { StorageEstimate } from '../../src/session/run-store-quota.ts';
export type { AblationWorker, AblationPlan, AblationProgress } from './ablation-worker.ts';
export type { SliceMaps } from '../../src/session/session.ts';
export type { DemoSet } from '../../src/session/demo-data.ts';
