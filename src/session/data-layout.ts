/**
 * Which graphs a data set suits, checked before a run or an evaluation starts
 * (no Node imports: the editor's worker uses it too).
 */
import type { Plan } from '../compile/plan.ts';
import { volumeInput } from '../train/volume-batches.ts';
import { EXIT_CODES, SessionError } from './errors.ts';

/** Which graphs a data set suits: 2D slices only, whole volumes only (a 3D demo), or either (NIfTI volumes: sliced for 2D). */
export type DataLayout = 'slices' | 'volumes' | 'either';

/** A 2D graph on volume-only data, or a 3D graph on slice data, is refused in one line naming both. */
export function checkLayout(plan: Plan, layout: DataLayout | undefined, dataArg: string): void {
  const vol = volumeInput(plan);
  const input = `B×${plan.input.shape.slice(1).join('×')}`;
  if (vol && layout === 'slices')
    throw new SessionError(
      `the graph takes volumes (${input}) but ${dataArg} holds 2D slices: give it volumes (demo3d, or a NIfTI folder)`,
      EXIT_CODES.badData,
    );
  if (!vol && layout === 'volumes')
    throw new SessionError(
      `the graph takes 2D images (${input}) but ${dataArg} holds whole volumes for 3D graphs: give it 2D data (demo, or a folder)`,
      EXIT_CODES.badData,
    );
}
