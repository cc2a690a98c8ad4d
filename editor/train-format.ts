/** Words and numbers for the training panel. */
import type { WeightsSummary } from './worker/api.ts';

export function formatDuration(sec: number): string {
  if (!Number.isFinite(sec) || sec < 0) return '–';
  const s = Math.round(sec);
  if (s < 60) return `${s}s`;
  if (s < 3600) return `${Math.floor(s / 60)}m${String(s % 60).padStart(2, '0')}s`;
  return `${Math.floor(s / 3600)}h${String(Math.floor((s % 3600) / 60)).padStart(2, '0')}m`;
}

export const formatNumber = (x: number, digits = 4) =>
  !Number.isFinite(x)
    ? String(x)
    : Math.abs(x) >= 0.01 || x === 0
      ? x.toFixed(digits)
      : x.toExponential(2);

/** The small note after a compile: how many weights were kept and how many start afresh. */
export function carryNote(w: WeightsSummary, first: boolean): string {
  const params = `${w.parameters.toLocaleString('en-US')} parameters`;
  if (first) return `Compiled: ${w.tensors} weight tensors, ${params}, ${w.origin}.`;
  const dropped = w.dropped ? `, ${w.dropped} no longer used` : '';
  return `Graph changed: kept ${w.kept} of ${w.tensors} weight tensors, re-initialised ${w.reinitialised}${dropped}.`;
}
