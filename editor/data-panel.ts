/**
 * The Train drawer's data section: what the session trains on (the demo, or
 * a folder the user opened), a folder picker and a drop zone, and for an
 * opened folder its cases (size, spacing, channels, label values, split),
 * the class table beside the graph's, and what does not fit, each problem
 * naming its file. It fires `data-open` (DataOpen: the picked files, and the
 * folder's handle where the File System Access picker gave one), `data-move`
 * ({ id, split }) and `data-demo`; the controller (train-panel.ts) asks the
 * worker and sets `data` and `failure`. The graph's class names are edited
 * here too: `class-names` ({ names }) bubbles out of the drawer to the editor,
 * which sets them on the graph's output node (one undoable edit), so results,
 * legends and the runs kept use them.
 */
import { LitElement, html, nothing } from 'lit';
import {
  directoryPicker,
  filesFromDrop,
  filesFromHandle,
  filesFromInput,
  type DirectoryHandle,
} from './data-pick.ts';
import { trainViewStyles } from './train-styles.ts';
import { dataPanelStyles } from './data-panel-styles.ts';
import type { CaseSummary, DataInfo, DataOpenReply, PickedFile } from './worker/api.ts';
import type { VolumeData } from './volume-pixels.ts';
import './volume-view.ts';

const SPLITS = ['train', 'val', 'test', 'unused'] as const;

/** `data-open`'s detail. */
export interface DataOpen {
  files: PickedFile[];
  handle?: DirectoryHandle;
}

/** "0.90 × 1.10 × 2.50 mm" */
const formatSpacing = (s: number[]) => `${s.map((v) => v.toFixed(2)).join(' × ')} mm`;

export class DataPanel extends LitElement {
  static override properties = {
    data: { attribute: false },
    failure: { attribute: false },
    graphClasses: { attribute: false },
    disabled: { type: Boolean },
    loadVolume: { attribute: false },
    dragging: { state: true },
    viewing: { state: true },
  };
  static override styles = [trainViewStyles, dataPanelStyles];

  data: DataInfo | undefined;
  /** The last folder that could not be opened, with every problem found. */
  failure: Extract<DataOpenReply, { ok: false }> | undefined;
  graphClasses: string[] | undefined;
  disabled = false;
  /** Reads one case as a volume (the training worker does); without it, no case can be viewed. */
  loadVolume: ((id: string) => Promise<VolumeData>) | undefined;
  dragging = false;
  /** The case shown in the volume viewer: loading, shown, or why it cannot be. */
  viewing: { id: string; volume?: VolumeData; error?: string } | undefined;

  override willUpdate(changed: Map<string, unknown>) {
    // A case no longer in the data (another folder opened, the demo chosen) is no longer shown.
    const cases = this.data?.folder?.cases ?? this.data?.cases;
    if (changed.has('data') && !cases?.some((c) => c.id === this.viewing?.id))
      this.viewing = undefined;
  }

  private async view(id: string) {
    if (!this.loadVolume) return;
    this.viewing = { id };
    try {
      const volume = await this.loadVolume(id);
      if (this.viewing?.id !== id) return;
      this.viewing = { id, volume };
      // Below the case table, the views may open out of sight.
      await this.updateComplete;
      this.renderRoot
        .querySelector('[data-testid="case-volume"]')
        ?.scrollIntoView({ block: 'nearest' });
    } catch (e) {
      const message = e instanceof Error ? e.message : String(e);
      if (this.viewing?.id === id) this.viewing = { id, error: message };
    }
  }

  /** Asks for `files` to be opened; `handle`: the picked folder's, kept to reopen it after a reload. */
  private open(files: PickedFile[], handle?: DirectoryHandle) {
    if (files.length)
      this.dispatchEvent(new CustomEvent<DataOpen>('data-open', { detail: { files, handle } }));
  }

  private async pick() {
    const picker = directoryPicker();
    if (!picker) {
      this.renderRoot.querySelector<HTMLInputElement>('input[type=file]')!.click();
      return;
    }
    let dir;
    try {
      dir = await picker();
    } catch {
      return; // the user cancelled
    }
    this.open(await filesFromHandle(dir), dir);
  }

  private onDrop(e: DragEvent) {
    e.preventDefault();
    this.dragging = false;
    if (this.disabled || !e.dataTransfer) return;
    // The entries must be taken before the handler returns.
    void filesFromDrop(e.dataTransfer).then((files) => this.open(files));
  }

  override render() {
    const d = this.data;
    return html`<section
      class="data-panel ${this.dragging ? 'dragging' : ''}"
      data-testid="data-panel"
      @dragover=${(e: DragEvent) => {
        e.preventDefault();
        this.dragging = !this.disabled;
      }}
      @dragleave=${() => (this.dragging = false)}
      @drop=${(e: DragEvent) => this.onDrop(e)}
    >
      <h3>Data</h3>
      <div class="row">
        <button data-testid="data-open" ?disabled=${this.disabled} @click=${() => void this.pick()}>
          Open folder…
        </button>
        ${
          d?.folder
            ? html`<button
                data-testid="data-demo"
                ?disabled=${this.disabled}
                @click=${() => this.dispatchEvent(new CustomEvent('data-demo'))}
              >
                Use the demo
              </button>`
            : nothing
        }
        <span class="muted">or drop a folder or files here</span>
        <input
          type="file"
          hidden
          webkitdirectory
          multiple
          data-testid="data-folder-input"
          @change=${(e: Event) => {
            const input = e.target as HTMLInputElement;
            const files = input.files ? filesFromInput(input.files) : [];
            input.value = '';
            this.open(files);
          }}
        />
      </div>
      ${this.renderFailure()}
      ${
        d
          ? html`<p class="data" data-testid="data-info">
              ${d.source}: ${describeSplits(d)}
              ${d.note ? html`<span class="tag">${d.note}</span>` : nothing}
            </p>`
          : html`<p class="muted" data-testid="data-info">Data: not loaded</p>`
      }
      ${d?.folder ? this.renderFolder(d) : nothing}
      ${
        !d?.folder && d?.cases
          ? html`${this.renderCases(d.cases, false)} ${this.renderVolume(d.classNames)}`
          : nothing
      }
    </section>`;
  }

  private renderFailure() {
    const f = this.failure;
    if (!f) return nothing;
    return html`<div class="notice error" data-testid="data-errors">
      <b>${f.name} cannot be used: nothing was changed.</b>
      <ul>
        ${f.errors.slice(0, 20).map((e) => html`<li data-file=${e.file}>${e.message}</li>`)}
      </ul>
      ${f.errors.length > 20 ? html`<span>… and ${f.errors.length - 20} more</span>` : nothing}
    </div>`;
  }

  private renderFolder(d: DataInfo) {
    const f = d.folder!;
    return html`
      ${
        f.errors.length
          ? html`<div class="notice error" data-testid="data-problems">
              <b>Training is off until these are fixed:</b>
              <ul>
                ${f.errors.map((e) => html`<li data-file=${e.file}>${e.message}</li>`)}
              </ul>
            </div>`
          : nothing
      }
      ${
        f.warnings.length
          ? html`<ul class="warnings" data-testid="data-warnings">
              ${f.warnings.map((w) => html`<li>${w}</li>`)}
            </ul>`
          : nothing
      }
      ${this.renderClasses(d)}
      <p class="muted" data-testid="data-split-rule">
        Split: ${f.splitRule}. Change a case's split below.
      </p>
      ${this.renderCases(f.cases, true)}
      ${this.renderVolume(f.classNames.length ? f.classNames : (this.graphClasses ?? []))}
    `;
  }

  /** The cases, each with its size, spacing, channels, labels and split (one that `movable` can change). */
  private renderCases(cases: CaseSummary[], movable: boolean) {
    return html`<table class="cases" data-testid="data-cases">
      <thead>
        <tr>
          <th>case</th>
          <th>size</th>
          <th>spacing</th>
          <th>ch</th>
          <th>labels</th>
          <th></th>
          <th>split</th>
        </tr>
      </thead>
      <tbody>
        ${cases.map((c) => this.renderCase(c, movable))}
      </tbody>
    </table>`;
  }

  private renderCase(c: CaseSummary, movable: boolean) {
    return html`<tr data-case=${c.id} title=${c.files.join('\n')}>
      <td>${c.id}</td>
      <td data-col="size">${c.dims.join('×')}</td>
      <td data-col="spacing">${formatSpacing(c.spacing)}</td>
      <td data-col="channels">${c.channels}</td>
      <td data-col="labels">${c.labelValues.join(', ')}</td>
      <td>
        ${
          (c.dims[2] ?? 1) > 1 && this.loadVolume
            ? html`<button
                data-testid="case-view"
                title="Show ${c.id} in three orthogonal views"
                @click=${() => void this.view(c.id)}
              >
                View
              </button>`
            : nothing
        }
      </td>
      <td>
        ${movable ? this.renderSplitChoice(c) : html`<span data-col="split">${c.split}</span>`}
      </td>
    </tr>`;
  }

  private renderSplitChoice(c: CaseSummary) {
    return html`<select
      data-col="split"
      ?disabled=${this.disabled}
      @change=${(e: Event) =>
        this.dispatchEvent(
          new CustomEvent('data-move', {
            detail: { id: c.id, split: (e.target as HTMLSelectElement).value },
          }),
        )}
    >
      ${SPLITS.map((s) => html`<option value=${s} ?selected=${s === c.split}>${s}</option>`)}
    </select>`;
  }

  /** The case being viewed in three orthogonal views, or why it cannot be. */
  private renderVolume(classNames: string[]) {
    const v = this.viewing;
    if (!v) return nothing;
    return html`<section data-testid="case-volume" data-case=${v.id}>
      <h4>Case ${v.id}</h4>
      ${
        v.error
          ? html`<div class="notice error" data-testid="case-volume-error">
              ${v.id} cannot be shown: ${v.error}
            </div>`
          : v.volume
            ? html`<mam-volume-view
                .volume=${v.volume}
                .classNames=${classNames}
              ></mam-volume-view>`
            : html`<p class="muted">Reading ${v.id}…</p>`
      }
    </section>`;
  }

  /** The graph's class names with `names` in place: a `class-names` event for the editor. */
  private setClassNames(names: string[]) {
    this.dispatchEvent(
      new CustomEvent('class-names', { detail: { names }, bubbles: true, composed: true }),
    );
  }

  private renameClass(i: number, input: HTMLInputElement) {
    const graph = [...(this.graphClasses ?? [])];
    const name = input.value.trim();
    if (!name || name === graph[i]) {
      input.value = graph[i] ?? '';
      return;
    }
    graph[i] = name;
    this.setClassNames(graph);
  }

  /** The folder's class table beside the graph's output classes, row by row; the graph's names are editable. */
  private renderClasses(d: DataInfo) {
    const data = d.folder!.classNames;
    const graph = this.graphClasses ?? [];
    const n = Math.max(data.length, graph.length);
    const adoptable =
      data.length > 0 && data.length === graph.length && data.some((a, i) => a !== graph[i]);
    return html`<table class="classes" data-testid="data-classes">
        <thead>
          <tr>
            <th>label</th>
            <th>in the data</th>
            <th>graph output (click to rename)</th>
          </tr>
        </thead>
        <tbody>
          ${Array.from({ length: n }, (_, i) => {
            const a = data.length ? data[i] : '(none: the graph’s)';
            const b = graph[i];
            const off = data.length > 0 && (a === undefined || b === undefined);
            return html`<tr class=${off ? 'off' : ''}>
              <td>${i}</td>
              <td>${a ?? '—'}</td>
              <td>
                ${
                  b === undefined
                    ? '—'
                    : html`<input
                        class="class-name"
                        data-testid="class-name-${i}"
                        aria-label="name of class ${i} in the graph"
                        .value=${b}
                        ?disabled=${this.disabled}
                        @change=${(e: Event) => this.renameClass(i, e.target as HTMLInputElement)}
                        @keydown=${(e: KeyboardEvent) => {
                          if (e.key === 'Enter') (e.target as HTMLInputElement).blur();
                        }}
                      />`
                }
              </td>
            </tr>`;
          })}
        </tbody>
      </table>
      ${
        adoptable
          ? html`<button
              data-testid="class-names-adopt"
              ?disabled=${this.disabled}
              @click=${() => this.setClassNames([...data])}
            >
              Use the data’s names in the graph
            </button>`
          : nothing
      }`;
  }
}

/** How much each split holds: whole volumes for the 3D demo, slices otherwise. */
function describeSplits(d: DataInfo): string {
  if (d.cases) {
    const n = (s: string) => d.cases!.filter((c) => c.split === s).length;
    return `${d.cases.length} volumes: ${n('train')} training, ${n('val')} validation, ${n('test')} test.`;
  }
  return `${d.trainSlices} training slices, ${d.splits.val.slices} validation, ${d.splits.test.slices} test.`;
}

customElements.define('mam-data-panel', DataPanel);

declare global {
  interface HTMLElementTagNameMap {
    'mam-data-panel': DataPanel;
  }
}
