/**
 * The Train drawer's runs list: every run kept in this browser with its
 * name, graph, date, steps and best Dice. Each row opens (and then resumes),
 * renames in place, exports as a zip of the CLI's run folder, or deletes
 * (after a confirm); rows ticked (2–6) compare. A zip or a run folder
 * (`mam train`'s, mam_torch's) picked or dropped here is imported. It fires
 * `run-open`, `run-rename` ({ id, name }), `run-export`, `run-delete` (ids),
 * `runs-compare` (ids) and `runs-import` (files); the controller
 * (runs-controller.ts) asks the worker and sets `runs`.
 */
import { LitElement, css, html, nothing } from 'lit';
import { filesFromDrop, filesFromInput } from './data-pick.ts';
import { dataPanelStyles } from './data-panel-styles.ts';
import { openRunHint } from './run-hints.ts';
import { trainViewStyles } from './train-styles.ts';
import type { PickedFile, RunSummary } from './worker/api.ts';

export const COMPARE_MAX = 6;

const when = (ms: number) => new Date(ms).toISOString().slice(0, 16).replace('T', ' ');

export class RunsList extends LitElement {
  static override properties = {
    runs: { attribute: false },
    disabled: { type: Boolean },
    selected: { state: true },
    editing: { state: true },
    dragging: { state: true },
  };
  static override styles = [
    trainViewStyles,
    dataPanelStyles,
    css`
      tr.current td {
        font-weight: 600;
      }
      td.num {
        text-align: right;
        font-variant-numeric: tabular-nums;
      }
      td.actions {
        white-space: nowrap;
      }
      td.actions button {
        padding: 1px 6px;
      }
      .problem {
        color: #b91c1c;
      }
    `,
  ];

  runs: RunSummary[] = [];
  disabled = false;
  selected = new Set<string>();
  editing: string | undefined;
  dragging = false;

  private fire(name: string, detail: unknown) {
    this.dispatchEvent(new CustomEvent(name, { detail }));
  }

  private toggle(id: string, on: boolean) {
    const next = new Set(this.selected);
    if (on) next.add(id);
    else next.delete(id);
    this.selected = next;
  }

  private rename(id: string, input: HTMLInputElement) {
    this.editing = undefined;
    const name = input.value.trim();
    if (name) this.fire('run-rename', { id, name });
  }

  private import(files: PickedFile[]) {
    if (files.length) this.fire('runs-import', files);
  }

  private onDrop(e: DragEvent) {
    e.preventDefault();
    this.dragging = false;
    if (this.disabled || !e.dataTransfer) return;
    void filesFromDrop(e.dataTransfer).then((files) => this.import(files));
  }

  override willUpdate(changed: Map<string, unknown>) {
    // A run that went (deleted, or kept under another id) is no longer ticked.
    if (changed.has('runs')) {
      const ids = new Set(this.runs.map((r) => r.id));
      const kept = [...this.selected].filter((id) => ids.has(id));
      if (kept.length !== this.selected.size) this.selected = new Set(kept);
    }
  }

  override render() {
    const n = this.selected.size;
    const fileInput = (id: string, folder: boolean) =>
      html`<input
        type="file"
        hidden
        data-testid=${id}
        accept=${folder ? nothing : '.zip,application/zip'}
        ?webkitdirectory=${folder}
        ?multiple=${folder}
        @change=${(e: Event) => {
          const input = e.target as HTMLInputElement;
          const files = input.files ? filesFromInput(input.files) : [];
          input.value = '';
          this.import(files);
        }}
      />`;
    const click = (id: string) =>
      this.renderRoot.querySelector<HTMLInputElement>(`input[data-testid=${id}]`)!.click();
    return html`<section
      class="runs ${this.dragging ? 'dragging data-panel' : ''}"
      data-testid="runs-list"
      @dragover=${(e: DragEvent) => {
        e.preventDefault();
        this.dragging = !this.disabled;
      }}
      @dragleave=${() => (this.dragging = false)}
      @drop=${(e: DragEvent) => this.onDrop(e)}
    >
      <h3>Runs <small>(kept in this browser)</small></h3>
      ${this.runs.length ? this.renderTable() : html`<p class="muted">No runs kept yet.</p>`}
      <div class="row">
        <button
          data-testid="runs-compare"
          ?disabled=${n < 2 || n > COMPARE_MAX}
          title="Tick 2 to ${COMPARE_MAX} runs"
          @click=${() =>
            this.fire(
              'runs-compare',
              this.runs.filter((r) => this.selected.has(r.id)).map((r) => r.id),
            )}
        >
          Compare ${n ? `${n} runs` : ''}
        </button>
        <button
          data-testid="runs-import"
          ?disabled=${this.disabled}
          @click=${() => click('runs-import-zip')}
        >
          Import zip…
        </button>
        <button
          data-testid="runs-import-folder"
          ?disabled=${this.disabled}
          @click=${() => click('runs-import-dir')}
        >
          Import run folder…
        </button>
        <span class="muted">or drop one here</span>
        ${fileInput('runs-import-zip', false)} ${fileInput('runs-import-dir', true)}
      </div>
    </section>`;
  }

  private renderTable() {
    return html`<table data-testid="runs-table">
      <thead>
        <tr>
          <th></th>
          <th>Name</th>
          <th>Graph</th>
          <th>Started</th>
          <th>Steps</th>
          <th>Best Dice</th>
          <th></th>
        </tr>
      </thead>
      <tbody>
        ${this.runs.map((r) => this.renderRow(r))}
      </tbody>
    </table>`;
  }

  private renderRow(r: RunSummary) {
    const off = this.disabled;
    const button = (id: string, label: string, fn: () => void, title = '') =>
      html`<button data-testid=${id} ?disabled=${off} title=${title} @click=${fn}>
        ${label}
      </button>`;
    if (r.problem)
      return html`<tr data-run=${r.id}>
        <td></td>
        <td colspan="5" class="problem">${r.id}: ${r.problem}</td>
        <td class="actions">${button('run-delete', 'Delete', () => this.confirmDelete(r))}</td>
      </tr>`;
    return html`<tr data-run=${r.id} class=${r.current ? 'current' : ''}>
      <td>
        <input
          type="checkbox"
          data-testid="run-select"
          aria-label="Compare ${r.name}"
          .checked=${this.selected.has(r.id)}
          @change=${(e: Event) => this.toggle(r.id, (e.target as HTMLInputElement).checked)}
        />
      </td>
      <td data-col="name">
        ${
          this.editing === r.id
            ? html`<input
                data-testid="run-name-input"
                .value=${r.name}
                @keydown=${(e: KeyboardEvent) => {
                  if (e.key === 'Enter') this.rename(r.id, e.target as HTMLInputElement);
                  if (e.key === 'Escape') this.editing = undefined;
                }}
                @blur=${(e: Event) => this.rename(r.id, e.target as HTMLInputElement)}
              />`
            : html`${r.name}${r.current ? html` <small>(open)</small>` : nothing}`
        }
      </td>
      <td data-col="graph">${r.title}</td>
      <td data-col="date">${when(r.createdAt)}</td>
      <td data-col="steps" class="num">${r.steps}${r.totalSteps ? `/${r.totalSteps}` : ''}</td>
      <td data-col="dice" class="num" title=${r.convention ?? ''}>
        ${r.bestDice === undefined ? '–' : r.bestDice.toFixed(3)}
      </td>
      <td class="actions">
        ${
          r.current
            ? nothing
            : button(
                'run-open',
                'Open',
                () => this.fire('run-open', r.id),
                openRunHint(r).replace(/^./, (c) => c.toUpperCase()),
              )
        }
        ${button('run-rename', 'Rename', () => {
          this.editing = r.id;
          void this.updateComplete.then(() =>
            this.renderRoot
              .querySelector<HTMLInputElement>('[data-testid=run-name-input]')
              ?.select(),
          );
        })}
        ${button('run-export', 'Export', () => this.fire('run-export', r.id), 'A zip of the run folder, as mam train writes it')}
        ${button('run-delete', 'Delete', () => this.confirmDelete(r))}
      </td>
    </tr>`;
  }

  private confirmDelete(r: RunSummary) {
    if (confirm(`Delete the run “${r.name}” from this browser? Its weights and history go.`))
      this.fire('run-delete', r.id);
  }
}

customElements.define('mam-runs-list', RunsList);

declare global {
  interface HTMLElementTagNameMap {
    'mam-runs-list': RunsList;
  }
}
