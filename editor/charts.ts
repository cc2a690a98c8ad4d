/** A small SVG line chart (loss over steps, validation Dice over steps), drawn without a library. */
import { LitElement, css, html, nothing, svg } from 'lit';
import { extent, niceTicks, type ChartSeries } from './chart-scale.ts';

export type { ChartSeries };

const fmtTick = (v: number) =>
  Math.abs(v) >= 1000 ? `${(v / 1000).toPrecision(3)}k` : Number(v.toPrecision(3)).toString();

const W = 460;
const H = 150;
const M = { left: 44, right: 12, top: 10, bottom: 26 };

export class LineChart extends LitElement {
  static override properties = {
    series: { attribute: false },
    xLabel: { attribute: 'x-label' },
    yLabel: { attribute: 'y-label' },
    yMin: { attribute: false },
    yMax: { attribute: false },
    xMin: { attribute: false },
    xMax: { attribute: false },
    empty: {},
  };
  static override styles = css`
    :host {
      display: block;
      font:
        11px system-ui,
        sans-serif;
      color: #475569;
    }
    svg {
      width: 100%;
      height: auto;
      display: block;
    }
    .grid {
      stroke: #e2e8f0;
    }
    .axis text {
      fill: #64748b;
      font-size: 10px;
    }
    .empty {
      fill: #94a3b8;
      font-size: 12px;
    }
    .keys {
      display: flex;
      gap: 12px;
      padding-left: 44px;
    }
    .keys i {
      display: inline-block;
      width: 12px;
      height: 3px;
      border-radius: 2px;
      margin-right: 4px;
      vertical-align: middle;
    }
  `;

  series: ChartSeries[] = [];
  xLabel = 'step';
  yLabel = '';
  yMin: number | undefined;
  yMax: number | undefined;
  /** Shared x range, so charts over the same steps line up. */
  xMin: number | undefined;
  xMax: number | undefined;
  empty = 'No data yet';

  override render() {
    const r = extent(this.series);
    let x0 = this.xMin ?? r.x0;
    let x1 = this.xMax ?? r.x1;
    if (x1 === x0) [x0, x1] = [x0 - 1, x1 + 1];
    let y0 = this.yMin ?? r.y0;
    let y1 = this.yMax ?? r.y1;
    if (y1 === y0) [y0, y1] = [y0 - 0.5, y1 + 0.5];
    if (this.yMin === undefined || this.yMax === undefined) {
      const pad = (y1 - y0) * 0.08;
      if (this.yMin === undefined) y0 -= pad;
      if (this.yMax === undefined) y1 += pad;
    }
    const iw = W - M.left - M.right;
    const ih = H - M.top - M.bottom;
    const sx = (x: number) => M.left + ((x - x0) / (x1 - x0)) * iw;
    const sy = (y: number) => M.top + ih - ((y - y0) / (y1 - y0)) * ih;
    const xt = niceTicks(x0, x1, 5).filter((t) => Number.isInteger(t));
    const yt = niceTicks(y0, y1, 4);
    return html`<svg viewBox="0 0 ${W} ${H}" role="img" aria-label=${this.yLabel}>
        ${yt.map(
          (t) =>
            svg`<line class="grid" x1=${M.left} x2=${W - M.right} y1=${sy(t)} y2=${sy(t)}></line>
              <g class="axis"><text x=${M.left - 5} y=${sy(t) + 3} text-anchor="end">${fmtTick(t)}</text></g>`,
        )}
        ${xt.map(
          (t) =>
            svg`<g class="axis"><text x=${sx(t)} y=${H - M.bottom + 13} text-anchor="middle">${fmtTick(t)}</text></g>`,
        )}
        <g class="axis">
          <text x=${W - M.right} y=${H - 2} text-anchor="end">${this.xLabel}</text>
          <text transform="translate(10 ${M.top + ih / 2}) rotate(-90)" text-anchor="middle">
            ${this.yLabel}
          </text>
        </g>
        <line stroke="#94a3b8" x1=${M.left} x2=${M.left} y1=${M.top} y2=${M.top + ih}></line>
        <line
          stroke="#94a3b8"
          x1=${M.left}
          x2=${W - M.right}
          y1=${M.top + ih}
          y2=${M.top + ih}
        ></line>
        ${this.series.map((s) => {
          const p = s.points.filter((q) => Number.isFinite(q[1]));
          const d = p
            .map((q, i) => `${i ? 'L' : 'M'}${sx(q[0]).toFixed(1)},${sy(q[1]).toFixed(1)}`)
            .join('');
          return svg`<path d=${d} fill="none" stroke=${s.color} stroke-width="1.8" stroke-linejoin="round"></path>
            ${s.dots || p.length === 1 ? p.map((q) => svg`<circle cx=${sx(q[0])} cy=${sy(q[1])} r="2.8" fill=${s.color}></circle>`) : nothing}`;
        })}
        ${r.points ? nothing : svg`<text class="empty" x=${M.left + iw / 2} y=${M.top + ih / 2} text-anchor="middle">${this.empty}</text>`}
      </svg>
      ${
        this.series.length > 1 || this.series[0]?.label
          ? html`<div class="keys">
              ${this.series.map((s) => html`<span><i style="background:${s.color}"></i>${s.label}</span>`)}
            </div>`
          : nothing
      }`;
  }
}

customElements.define('mam-line-chart', LineChart);

declare global {
  interface HTMLElementTagNameMap {
    'mam-line-chart': LineChart;
  }
}
