/**
 * What opening a stored run allows, in words, for the runs list and the import notice:
 * a run another engine trained (mam_torch) cannot be resumed here (foreignEngine).
 */
import type { RunSummary } from './worker/api.ts';

export function openRunHint(r: Pick<RunSummary, 'trainedBy'>): string {
  return r.trainedBy
    ? `trained by ${r.trainedBy}, it cannot be resumed here: open it to evaluate, export or train a new run from its weights`
    : 'open it to resume or evaluate it';
}
