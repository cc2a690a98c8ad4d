/**
 * The Ablation view: the paper's variants of the open graph (those that
 * apply), seeds and a step budget; Run queues them in the ablation worker
 * (editor/worker/ablation-worker.ts) one after another with progress, and
 * shows the table (Table 5's layout), the loss curves overlaid, an Open
 * button per variant (the graph replaces the open one, one undo step) and
 * Markdown/CSV export.
 */
import * as Comlink from 'comlink';
import { LitElement, html, nothing, svg } from 'lit';
import { catalogue as builtIn } from '../nodes/index.ts';
import {
  conventionNote,
  tableCsv,
  tableMarkdown,
  type AblationTable,
} from '../src/ablate/table.ts';
import {
  deriveAblation,
  VARIANTS,
  VARIANT_INFO,
  type VariantName,
} from '../src/ablate/variants.ts';
import type { Catalogue } from '../src/graph/node-kind.ts';
import type { GraphDoc } from '../src/graph/types.ts';
import { analysisRefusal } from './analysis-support.ts';
import { download } from './files.ts';
import type { AblationProgress, AblationWorker } from './worker/api.ts';

const DEMO_URL = `${import.meta.env.BASE_URL}data/demo/`;
const COLOURS = ['#2563eb', '#dc2626', '#16a34a', '#9333ea', '#ea580c'];

export class MamAblationView extends LitElement {
  static override properties = {
    doc: { attribute: false },
    catalogue: { attribute: false },
    picked: { state: true },
    seeds: { state: true },
    steps: { state: true },
    progress: { state: true },
    table: { state: true },
    error: { state: true },
    running: { state: true },
  };
  doc: GraphDoc | undefined;
  catalogue: Catalogue = builtIn;
  picked: VariantName[] = ['sam', 'ists-enc', 'sts-enc'];
  seeds = 1;
  steps = 20;
  progress = '';
  table: AblationTable | undefined;
  error = '';
  running = false;
  private curves = new Map<string, number[]>();
  private worker: Worker | undefined;
  private api: Comlink.Remote<AblationWorker> | undefined;

  override createRenderRoot() {
    return this;
  }

  override disconnectedCallback(): void {
    super.disconnectedCallback();
    this.worker?.terminate();
  }

  /** The variants of the open graph: every one that applies, the rest said why not. */
  private applicable() {
    if (!this.doc) return { rows: [], skipped: [] as string[] };
    const r = deriveAblation(
      this.doc,
      { variants: VARIANTS, layouts: ['window'], merges: ['conv'], explicit: false },
      this.catalogue,
    );
    return 'error' in r ? { rows: [], skipped: [r.error] } : r;
  }

  private async run() {
    if (!this.doc || this.running || analysisRefusal(this.doc, 'ablation')) return;
    this.error = '';
    this.table = undefined;
    this.curves = new Map();
    this.running = true;
    if (!this.worker) {
      this.worker = new Worker(new URL('./worker/ablation-worker.ts', import.meta.url), {
        type: 'module',
        name: 'mam-ablation',
      });
      this.api = Comlink.wrap<AblationWorker>(this.worker);
    }
    const onEvent = (e: AblationProgress) => {
      if (e.type === 'run') this.progress = `run ${e.index}/${e.total}: ${e.key}, seed ${e.seed}`;
      else if (e.type === 'step') {
        const id = e.key;
        const c = this.curves.get(id) ?? [];
        if (e.seed === 0) c.push(e.loss);
        this.curves.set(id, c);
        this.progress = this.progress.replace(
          /( · step .*)?$/,
          ` · step ${e.step}/${e.totalSteps}`,
        );
      } else if (e.type === 'table') this.table = e.table;
    };
    try {
      const t = await this.api!.run(
        this.doc,
        { variants: this.picked, seeds: this.seeds, steps: this.steps },
        DEMO_URL,
        Comlink.proxy(onEvent),
      );
      if (t) this.table = t;
      this.progress = t ? 'done' : 'stopped';
    } catch (e) {
      this.error = (e as Error).message;
    } finally {
      this.running = false;
    }
  }

  private openVariant(key: string) {
    const row = this.applicable().rows.find((r) => r.key === key);
    if (row)
      this.dispatchEvent(
        new CustomEvent('open-graph', {
          detail: { doc: row.graph, source: `ablation variant ${key}` },
        }),
      );
  }

  private toggle(v: VariantName, on: boolean) {
    this.picked = on ? [...new Set([...this.picked, v])] : this.picked.filter((x) => x !== v);
  }

  private chart() {
    const series = [...this.curves.entries()].filter(([, c]) => c.length > 1);
    if (!series.length) return nothing;
    const W = 360;
    const H = 120;
    const max = Math.max(...series.flatMap(([, c]) => c));
    const n = Math.max(...series.map(([, c]) => c.length));
    return html`<svg
        data-testid="ablation-curves"
        width=${W}
        height=${H}
        role="img"
        aria-label="loss curves"
      >
        ${series.map(
          ([key, c], i) =>
            svg`<polyline fill="none" stroke=${COLOURS[i % COLOURS.length]} stroke-width="1.5" data-key=${key}
              points=${c.map((v, j) => `${(j / Math.max(1, n - 1)) * W},${H - (v / max) * (H - 4)}`).join(' ')}></polyline>`,
        )}
      </svg>
      <div class="legend">
        ${series.map(
          ([key], i) => html`<span style="color:${COLOURS[i % COLOURS.length]}">■ ${key}</span> `,
        )}
        (training loss, seed 0)
      </div>`;
  }

  override render() {
    const { rows, skipped } = this.applicable();
    const keys = new Set(rows.map((r) => r.variant));
    const t = this.table;
    const refusal = analysisRefusal(this.doc, 'ablation');
    return html`<div class="dialog ablation" role="dialog" data-testid="ablation-view">
      <h3>Ablation</h3>
      <p class="note">
        The paper's variants of this graph, trained on the demo set (single-subject demo, not a
        benchmark) one after another, then tested.
      </p>
      <div>
        ${VARIANTS.filter((v) => keys.has(v)).map(
          (v) =>
            html`<label
                ><input
                  type="checkbox"
                  data-testid=${`variant-${v}`}
                  .checked=${this.picked.includes(v)}
                  ?disabled=${this.running}
                  @change=${(e: Event) => this.toggle(v, (e.target as HTMLInputElement).checked)}
                />
                ${v} (${VARIANT_INFO[v].label})</label
              ><br />`,
        )}
        ${skipped.map((s) => html`<div class="note">${s}</div>`)}
      </div>
      <label
        >Seeds
        <input
          type="number"
          min="1"
          max="10"
          data-testid="ablation-seeds"
          .value=${String(this.seeds)}
          @change=${(e: Event) => (this.seeds = Math.max(1, Number((e.target as HTMLInputElement).value) || 1))}
      /></label>
      <label
        >Steps per run
        <input
          type="number"
          min="1"
          data-testid="ablation-steps"
          .value=${String(this.steps)}
          @change=${(e: Event) => (this.steps = Math.max(1, Number((e.target as HTMLInputElement).value) || 1))}
      /></label>
      <div>
        <button
          data-testid="ablation-run"
          ?disabled=${this.running || !this.picked.length || !!refusal}
          title=${refusal ?? ''}
          @click=${() => void this.run()}
        >
          Run
        </button>
        <button
          data-testid="ablation-stop"
          ?disabled=${!this.running}
          @click=${() => void this.api?.stop()}
        >
          Stop
        </button>
        <span data-testid="ablation-progress">${this.progress}</span>
      </div>
      ${refusal ? html`<p class="error" data-testid="ablation-refusal">${refusal}</p>` : nothing}
      ${this.error ? html`<p class="error" data-testid="ablation-error">${this.error}</p>` : nothing}
      ${this.chart()}
      ${
        t
          ? html`<p class="note">${conventionNote(t)}</p>
              <table data-testid="ablation-table">
                <tr>
                  <th>Label</th>
                  <th>Encoder</th>
                  <th>Decoder</th>
                  <th>Params (M)</th>
                  <th>FLOPs (G)</th>
                  <th>DSC %</th>
                  <th>HD95</th>
                  <th></th>
                </tr>
                ${t.rows.map(
                  (r) =>
                    html`<tr data-key=${r.key}>
                      <td>${r.label}</td>
                      <td>${r.encoder ? '✓' : '–'}</td>
                      <td>${r.decoder ? '✓' : '–'}</td>
                      <td>${(r.params / 1e6).toFixed(2)}</td>
                      <td>${(r.macsLinearConv / 1e9).toFixed(2)}</td>
                      <td>
                        ${r.dsc.n ? `${r.dsc.mean.toFixed(2)} ± ${r.dsc.std.toFixed(2)}` : '–'}
                      </td>
                      <td>
                        ${r.hd95.n ? `${r.hd95.mean.toFixed(2)} ± ${r.hd95.std.toFixed(2)}` : '–'}
                      </td>
                      <td>
                        <button
                          data-testid=${`open-${r.key}`}
                          @click=${() => this.openVariant(r.key)}
                        >
                          Open
                        </button>
                      </td>
                    </tr>`,
                )}
              </table>
              <button
                data-testid="ablation-md"
                @click=${() => download('ablation.md', new Blob([tableMarkdown(t)], { type: 'text/markdown' }))}
              >
                Export Markdown
              </button>
              <button
                data-testid="ablation-csv"
                @click=${() => download('ablation.csv', new Blob([tableCsv(t)], { type: 'text/csv' }))}
              >
                Export CSV
              </button>`
          : nothing
      }
      <button
        data-testid="ablation-close"
        @click=${() => this.dispatchEvent(new CustomEvent('close'))}
      >
        Close
      </button>
    </div>`;
  }
}

customElements.define('mam-ablation-view', MamAblationView);

declare global {
  interface HTMLElementTagNameMap {
    'mam-ablation-view': MamAblationView;
  }
}
