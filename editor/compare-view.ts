/**
 * Runs side by side (2–6, from the runs list): loss and validation Dice
 * curves overlaid, one colour per run with a legend; the per-class metrics
 * table with the metric convention of each run named; parameter and MAC
 * counts of each graph; and how each graph differs from the first run's
 * (src/graph/graph-diff.ts: nodes added, removed or of another kind,
 * parameters, memory links). Drawn over the editor; `close` hides it.
 */
import { LitElement, css, html, nothing } from 'lit';
import { graphDifference, hasDifference, linkWords } from '../src/graph/graph-diff.ts';
import { analyzeGraph } from '../src/graph/infer.ts';
import type { Catalogue } from '../src/graph/node-kind.ts';
import { formatCount } from '../src/rete/index.ts';
import { BucketedSeries } from './chart-scale.ts';
import './charts.ts';
import { dataPanelStyles } from './data-panel-styles.ts';
import { trainViewStyles } from './train-styles.ts';
import type { RunDetails } from './worker/api.ts';

/** One colour per run (up to six), apart for colour-blind eyes (Okabe–Ito). */
export const RUN_COLOURS = ['#0072b2', '#e69f00', '#009e73', '#cc79a7', '#d55e00', '#56b4e9'];

const fmt = (x: number | undefined, d = 3) =>
  x === undefined || !Number.isFinite(x) ? '–' : x.toFixed(d);

export class CompareView extends LitElement {
  static override properties = {
    runs: { attribute: false },
    catalogue: { attribute: false },
  };
  static override styles = [
    trainViewStyles,
    dataPanelStyles,
    css`
      :host {
        position: fixed;
        inset: 48px 32px 40px;
        z-index: 40;
        background: #fff;
        border: 1px solid #cbd5e1;
        box-shadow: 0 12px 40px rgba(15, 23, 42, 0.25);
        overflow: auto;
        padding: 8px 16px 16px;
        font:
          13px system-ui,
          sans-serif;
      }
      header {
        display: flex;
        justify-content: space-between;
        align-items: center;
      }
      .charts {
        display: grid;
        grid-template-columns: repeat(auto-fit, minmax(360px, 1fr));
        gap: 12px;
      }
      .legend span {
        margin-right: 14px;
        white-space: nowrap;
      }
      .legend i {
        display: inline-block;
        width: 14px;
        height: 4px;
        margin-right: 4px;
        vertical-align: middle;
      }
      td.num {
        text-align: right;
        font-variant-numeric: tabular-nums;
      }
      .scroll {
        overflow-x: auto;
      }
      table.per-class {
        width: auto;
      }
      table.per-class th.num {
        text-align: right;
      }
      table.per-class .num {
        min-width: 4.5em;
      }
      table.per-class .run-start {
        border-left: 2px solid #cbd5e1;
      }
      table.per-class th.run {
        max-width: 18em;
        text-align: left;
        vertical-align: bottom;
      }
      table.per-class th.run i {
        display: inline-block;
        width: 10px;
        height: 10px;
        margin-right: 4px;
      }
      table.per-class .class {
        position: sticky;
        left: 0;
        z-index: 1;
        background: #fff;
        text-align: left;
        min-width: 7em;
      }
      table.per-class tr.mean td {
        font-weight: 600;
        border-top: 1px solid #94a3b8;
      }
      ul.diff {
        margin: 2px 0 8px;
        padding-left: 18px;
      }
    `,
  ];

  runs: RunDetails[] = [];
  catalogue: Catalogue | undefined;

  private colour = (i: number) => RUN_COLOURS[i % RUN_COLOURS.length];

  override render() {
    const runs = this.runs;
    const loss = runs.map((r, i) => ({
      label: r.summary.name,
      color: this.colour(i),
      points: BucketedSeries.of(r.losses.map((p) => [p.step, p.loss] as const)).points,
    }));
    const dice = runs.map((r, i) => ({
      label: r.summary.name,
      color: this.colour(i),
      points: r.dice.map((p) => [p.step, p.meanDice] as [number, number]),
      dots: true,
    }));
    return html`<header>
        <h2>Compare ${runs.length} runs</h2>
        <button
          data-testid="compare-close"
          title="Close"
          @click=${() => this.dispatchEvent(new CustomEvent('close'))}
        >
          ×
        </button>
      </header>
      <p class="legend" data-testid="compare-legend">
        ${runs.map(
          (r, i) =>
            html`<span data-run=${r.summary.id}
              ><i style="background:${this.colour(i)}"></i>${r.summary.name}</span
            >`,
        )}
      </p>
      <div class="charts">
        <div>
          <h3>Training loss <small>(steps of each run)</small></h3>
          <mam-line-chart
            data-testid="compare-loss"
            y-label="loss"
            .series=${loss}
            empty="No steps"
          ></mam-line-chart>
        </div>
        <div>
          <h3>Validation: mean foreground Dice</h3>
          <mam-line-chart
            data-testid="compare-dice"
            y-label="Dice"
            .yMin=${0}
            .yMax=${1}
            .series=${dice}
            empty="No validations"
          ></mam-line-chart>
        </div>
      </div>
      ${this.renderCounts()} ${this.renderTable()} ${this.renderDiffs()}`;
  }

  private renderCounts() {
    return html`<h3>Size</h3>
      <table data-testid="compare-counts">
        <thead>
          <tr>
            <th>Run</th>
            <th>Graph</th>
            <th>Parameters</th>
            <th>MACs Linear/Conv</th>
            <th>MACs attention</th>
          </tr>
        </thead>
        <tbody>
          ${this.runs.map((r) => {
            const a = this.catalogue ? analyzeGraph(r.graph, this.catalogue) : undefined;
            return html`<tr data-run=${r.summary.id}>
              <td>${r.summary.name}</td>
              <td>${r.summary.title}</td>
              <td class="num" data-col="params">${r.summary.parameters.toLocaleString('en-US')}</td>
              <td class="num" data-col="macs-linear">
                ${a ? formatCount(a.macs.linearConv) : '?'}
              </td>
              <td class="num" data-col="macs-attention">
                ${a ? formatCount(a.macs.attention) : '?'}
              </td>
            </tr>`;
          })}
        </tbody>
      </table>`;
  }

  /**
   * Classes as rows; per run, its Dice and HD95 side by side under the run's name (in its
   * colour, with its convention), the runs set apart by a rule. Numbers are right-aligned in
   * tabular figures under right-aligned headers, and the class column stays in view when the
   * table scrolls sideways.
   */
  private renderTable() {
    const runs = this.runs;
    const names: string[] = [];
    for (const r of runs)
      for (const c of r.table?.perClass ?? []) if (!names.includes(c.name)) names.push(c.name);
    const cell = (r: RunDetails, name: string) => r.table?.perClass.find((c) => c.name === name);
    const pair = (r: RunDetails, dice: number | undefined, hd95: number | undefined) =>
      html`<td class="num run-start" data-run=${r.summary.id} data-metric="dice">${fmt(dice)}</td>
        <td class="num" data-run=${r.summary.id} data-metric="hd95">${fmt(hd95, 1)}</td>`;
    return html`<h3>Per class</h3>
      <div class="scroll">
        <table class="per-class" data-testid="compare-table">
          <thead>
            <tr>
              <th class="class" rowspan="2">Class</th>
              ${runs.map(
                (r, i) =>
                  html`<th colspan="2" class="run run-start" data-run=${r.summary.id}>
                    <i style="background:${this.colour(i)}"></i>${r.summary.name}<br /><small
                      data-testid="compare-convention"
                      >${r.table ? `${r.table.convention} convention, ${r.table.source}` : 'not evaluated'}</small
                    >
                  </th>`,
              )}
            </tr>
            <tr>
              ${runs.map(
                (r) =>
                  html`<th class="num run-start" data-run=${r.summary.id} data-metric="dice">
                      Dice
                    </th>
                    <th class="num" data-run=${r.summary.id} data-metric="hd95">HD95</th>`,
              )}
            </tr>
          </thead>
          <tbody>
            ${names.map(
              (name) =>
                html`<tr data-class=${name}>
                  <td class="class">${name}</td>
                  ${runs.map((r) => {
                    const c = cell(r, name);
                    return pair(r, c?.dice, c?.hd95);
                  })}
                </tr>`,
            )}
            <tr data-class="mean" class="mean">
              <td class="class">mean</td>
              ${runs.map((r) => pair(r, r.table?.meanDice, r.table?.meanHd95))}
            </tr>
          </tbody>
        </table>
      </div>`;
  }

  private renderDiffs() {
    const [first, ...rest] = this.runs;
    if (!first || !this.catalogue) return nothing;
    return html`<h3>Graph difference <small>(from ${first.summary.name})</small></h3>
      ${rest.map((r) => {
        const d = graphDifference(first.graph, r.graph, this.catalogue!);
        const items = [
          ...d.retyped.map((x) => `${x.id}: ${x.from} → ${x.to}`),
          ...d.added.map((x) => `added ${x.id} (${x.type})`),
          ...d.removed.map((x) => `removed ${x.id} (${x.type})`),
          ...d.changed.map(
            (x) =>
              `${x.id}: ${x.params.map((p) => `${p.name} ${JSON.stringify(p.from) ?? '–'} → ${JSON.stringify(p.to) ?? '–'}`).join(', ')}`,
          ),
          ...d.memoryLinks.added.map((l) => `memory link added ${linkWords(l)}`),
          ...d.memoryLinks.removed.map((l) => `memory link removed ${linkWords(l)}`),
          ...d.links.added.map((l) => `link added ${linkWords(l)}`),
          ...d.links.removed.map((l) => `link removed ${linkWords(l)}`),
        ];
        return html`<div data-testid="compare-diff" data-run=${r.summary.id}>
          <b>${r.summary.name}</b>:
          ${
            hasDifference(d)
              ? html`${d.retyped.length} node${d.retyped.length === 1 ? '' : 's'} of another kind,
                  ${d.added.length} added, ${d.removed.length} removed, ${d.changed.length} with
                  other parameters, memory links +${d.memoryLinks.added.length}
                  −${d.memoryLinks.removed.length}
                  <ul class="diff">
                    ${items.slice(0, 40).map((t) => html`<li>${t}</li>`)}
                    ${items.length > 40 ? html`<li>… and ${items.length - 40} more</li>` : nothing}
                  </ul>`
              : 'the same graph'
          }
        </div>`;
      })}`;
  }
}

customElements.define('mam-compare-view', CompareView);

declare global {
  interface HTMLElementTagNameMap {
    'mam-compare-view': CompareView;
  }
}
