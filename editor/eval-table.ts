/** The evaluation table: Dice and HD95 per class name, labelled with its convention (never mixed). */
import { LitElement, css, html, nothing } from 'lit';
import { classColor } from './image-view.ts';
import type { EmptyRule, MetricConvention } from '../src/train/metrics.ts';
import type { EvalResult } from './worker/api.ts';

const fmt = (x: number, d: number) =>
  Number.isNaN(x) ? 'NaN' : x === Infinity ? '∞' : x.toFixed(d);

/** Why a class scored what it did when a mask was empty, in the table's convention. */
const RULE_NOTE: Record<MetricConvention, Record<EmptyRule, string>> = {
  synapse: {
    both: '',
    predOnly: 'predicted but absent: scores 1 / 0 by the synapse rule',
    gtOnly: 'missed: scores 0 / 0',
    bothEmpty: 'absent from both: scores 0 / 0',
  },
  monai: {
    both: '',
    predOnly: 'predicted but absent: Dice skipped, HD95 ∞',
    gtOnly: 'missed: Dice 0, HD95 ∞',
    bothEmpty: 'absent from both: skipped',
  },
};

export function conventionText(r: Pick<EvalResult, 'convention' | 'hd95Unit'>): string {
  return r.convention === 'synapse'
    ? 'synapse convention (the paper’s): HD95 in voxels, unit spacing as medpy'
    : 'monai convention: HD95 in mm from the voxel spacing; NaN Dice skipped in means';
}

export class EvalTable extends LitElement {
  static override properties = { result: { attribute: false } };
  static override styles = css`
    :host {
      display: block;
      font:
        12px system-ui,
        sans-serif;
      color: #0f172a;
    }
    .label {
      color: #334155;
      margin: 0 0 4px;
    }
    .note {
      display: inline-block;
      background: #fef3c7;
      color: #78350f;
      border-radius: 4px;
      padding: 1px 6px;
      margin: 0 0 6px;
    }
    table {
      border-collapse: collapse;
      width: 100%;
    }
    th,
    td {
      padding: 3px 8px;
      text-align: right;
      border-bottom: 1px solid #e2e8f0;
      font-variant-numeric: tabular-nums;
    }
    th:first-child,
    td:first-child {
      text-align: left;
    }
    th:not(.rule),
    td:not(.rule) {
      white-space: nowrap;
    }
    th {
      color: #475569;
      font-weight: 600;
    }
    tr.mean td {
      font-weight: 700;
      border-top: 1.5px solid #94a3b8;
    }
    tr.absent td {
      color: #94a3b8;
    }
    i {
      display: inline-block;
      width: 9px;
      height: 9px;
      border-radius: 2px;
      margin-right: 5px;
    }
    .rule {
      color: #94a3b8;
      font-size: 11px;
      text-align: left;
    }
  `;

  result: EvalResult | undefined;

  override render() {
    const r = this.result;
    if (!r) return nothing;
    const present = new Set(r.classesPresent);
    return html`
      <p class="label" data-testid="eval-convention">
        ${r.split} split, weights at step ${r.step} — ${conventionText(r)}
      </p>
      ${r.note ? html`<p class="note" data-testid="eval-note">${r.note}</p>` : nothing}
      <table data-testid="eval-table">
        <thead>
          <tr>
            <th>class</th>
            <th>Dice</th>
            <th>HD95 (${r.hd95Unit === 'voxel' ? 'voxels' : 'mm'})</th>
            <th class="rule"></th>
          </tr>
        </thead>
        <tbody>
          ${r.perClass.map(
            (c, i) =>
              html`<tr class=${present.has(c.name) ? '' : 'absent'} data-class=${c.name}>
                <td><i style="background:${classColor(i + 1)}"></i>${c.name}</td>
                <td>${fmt(c.dice, 3)}</td>
                <td>${fmt(c.hd95, 1)}</td>
                <td class="rule">${RULE_NOTE[r.convention][c.rule]}</td>
              </tr>`,
          )}
          <tr class="mean">
            <td>mean (${r.perClass.length} classes)</td>
            <td data-testid="eval-mean-dice">${fmt(r.meanDice, 3)}</td>
            <td>${fmt(r.meanHd95, 1)}</td>
            <td></td>
          </tr>
        </tbody>
      </table>
      <p class="label">
        Classes present in the ${r.split} split:
        ${r.classesPresent.length ? r.classesPresent.join(', ') : 'none'}.
        ${r.perClass.some((c) => !present.has(c.name)) ? 'Greyed rows are absent from it.' : ''}
      </p>
    `;
  }
}

customElements.define('mam-eval-table', EvalTable);

declare global {
  interface HTMLElementTagNameMap {
    'mam-eval-table': EvalTable;
  }
}
