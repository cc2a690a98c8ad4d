/**
 * What the compare view shows of a kept run: its own loss and validation
 * curves (steps counted from the run's start), its per-class table (the last
 * evaluation, else the last validation) with the metric convention, and its
 * graph, for the parameter/MAC counts and the graph difference.
 */
import type { GraphDoc } from '../graph/types.ts';
import { summariseRun, type RunRecord, type RunSummary } from './run-store.ts';

export interface RunTable {
  /** Where the numbers come from, in words ("test split evaluation", "last validation"). */
  source: string;
  convention: string;
  meanDice: number;
  meanHd95: number;
  perClass: { name: string; dice: number; hd95: number }[];
  note?: string;
}

export interface RunDetails {
  summary: RunSummary;
  graph: GraphDoc;
  losses: { step: number; loss: number }[];
  dice: { step: number; meanDice: number }[];
  table?: RunTable;
}

export function runDetails(r: RunRecord): RunDetails {
  const own = <T extends { step: number }>(xs: T[]) =>
    xs.filter((x) => x.step > r.runBase).map((x) => ({ ...x, step: x.step - r.runBase }));
  const ev = r.evaluation;
  const last = r.checkpoint?.state.lastValidation;
  const table: RunTable | undefined = ev
    ? {
        source: `${ev.split} split evaluation at step ${ev.step - r.runBase}`,
        convention: ev.convention,
        meanDice: ev.meanDice,
        meanHd95: ev.meanHd95,
        perClass: ev.perClass.map(({ name, dice, hd95 }) => ({ name, dice, hd95 })),
        note: ev.note,
      }
    : last
      ? {
          source: `last validation, step ${last.step}`,
          convention: last.convention,
          meanDice: last.meanDice,
          meanHd95: last.meanHd95,
          perClass: Object.entries(last.perClass).map(([name, c]) => ({ name, ...c })),
        }
      : undefined;
  return {
    summary: summariseRun(r),
    graph: r.graph,
    losses: own(r.history).map(({ step, loss }) => ({ step, loss })),
    dice: own(r.validations).map(({ step, meanDice }) => ({ step, meanDice })),
    table,
  };
}
