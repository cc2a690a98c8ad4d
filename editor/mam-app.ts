/**
 * The editor app shell: toolbar, palette, canvas (the Rete view of the
 * document, through the mam-studio plugin), inspector, problems and totals.
 * All edits go through the plugin's store as commands; this file wires the
 * panels, files, autosave and shortcuts around it.
 */
import { catalogue as builtinCatalogue } from '../nodes/index.ts';
import { LitElement, html, nothing } from 'lit';
import { NodeEditor } from 'rete';
import { AreaPlugin } from 'rete-area-plugin';
import {
  clipboardFromText,
  clipboardToText,
  copySelection,
  cutSelection,
  pasteClipboard,
  type Clipboard,
} from '../src/graph/clipboard.ts';
import { autoArrange } from '../src/graph/layout.ts';
import { loadGraph } from '../src/graph/load.ts';
import { presets } from '../src/graph/presets.ts';
import { saveGraph } from '../src/graph/save.ts';
import type { Catalogue } from '../src/graph/node-kind.ts';
import type { GraphDoc, GraphIssue, ParamValue } from '../src/graph/types.ts';
import {
  decodeGraphFragment,
  encodeGraphToFragment,
  FRAGMENT_PREFIX,
  graphFileName,
} from '../src/share/index.ts';
import { emptyGraph, installMamStudio, type MamStudio, type Schemes } from '../src/rete/index.ts';
import { autosaver, flushOnLeave, readAutosave } from './autosave.ts';
import { download, readGraphFile } from './files.ts';
import { bindShortcuts, chordText, GESTURES, SHORTCUTS } from './keyboard.ts';
import type { PaletteDragDetail } from './palette.ts';
import { exportGraphPng } from './png-export.ts';
import './inspector.ts';
import './palette.ts';
import './panels.ts';
import './train-panel.ts';
import type { TrainPanel, TrainSummary } from './train-panel.ts';

const DEMO_PRESET = `${import.meta.env.BASE_URL}presets/demo-mam.json`;

interface Toast {
  id: number;
  message: string;
  level: 'info' | 'error';
}

interface LoadReport {
  title: string;
  issues: GraphIssue[];
  kept: boolean;
}

/** Read-only handle for tests and the console: state, never actions. */
export interface MamTestHook {
  readonly doc: GraphDoc;
  readonly analysis: ReturnType<MamStudio['getAnalysis']>;
  readonly selected: string[];
  /** The selected link's key, if a link is selected. */
  readonly selectedLink: string | undefined;
  /** The canvas zoom factor. */
  readonly zoom: number;
  readonly canUndo: boolean;
  readonly undoDepth: number;
  saveText(): string;
  idle(): Promise<void>;
  /** The Train drawer's state: backend, weights summary, progress, evaluation. */
  readonly training: TrainSummary | undefined;
}

declare global {
  interface Window {
    __mam?: MamTestHook;
  }
}

export class MamApp extends LitElement {
  static override properties = {
    toasts: { state: true },
    report: { state: true },
    shareUrl: { state: true },
    revision: { state: true },
    selected: { state: true },
    trainOpen: { state: true },
    helpOpen: { state: true },
    convertOpen: { state: true },
  };

  toasts: Toast[] = [];
  report: LoadReport | undefined;
  shareUrl: string | undefined;
  revision = 0;
  selected: string[] = [];
  trainOpen = false;
  helpOpen = false;
  convertOpen = false;

  /**
   * The node kinds the app offers (palette, inspector, files, links, PNGs, the
   * canvas); a host page sets its own before adding the element.
   */
  catalogue: Catalogue = builtinCatalogue;

  private mam: MamStudio | undefined;
  private clipboard: Clipboard | undefined;
  private saver = autosaver();
  private toastId = 0;
  private presetDocs = presets(builtinCatalogue);
  private unbind: (() => void)[] = [];

  override createRenderRoot() {
    return this; // light DOM: Rete measures and hit-tests the canvas through the document
  }

  override connectedCallback(): void {
    super.connectedCallback();
    const bound = bindShortcuts(window, {
      remove: () => this.mam?.removeSelected(),
      undo: () => this.mam?.store.undo(),
      redo: () => this.mam?.store.redo(),
      copy: () => this.copy(false),
      cut: () => this.copy(true),
      paste: () => void this.paste(),
      save: () => this.save(),
      selectAll: () => void this.mam?.select(this.mam.store.doc.nodes.map((n) => n.id)),
      zoomIn: () => void this.mam?.zoomBy(1.25),
      zoomOut: () => void this.mam?.zoomBy(0.8),
      fit: () => void this.mam?.zoomToFit(),
      help: () => (this.helpOpen = !this.helpOpen),
      escape: () => {
        this.report = undefined;
        this.shareUrl = undefined;
        this.helpOpen = false;
        this.convertOpen = false;
        void this.mam?.select([]);
      },
    });
    const closeMenus = () => (this.convertOpen = false);
    window.addEventListener('pointerdown', closeMenus);
    window.addEventListener('hashchange', this.onHash);
    window.addEventListener('resize', this.onResize);
    this.unbind = [
      () => window.removeEventListener('resize', this.onResize),
      bound,
      flushOnLeave(window, this.saver),
      () => window.removeEventListener('pointerdown', closeMenus),
      () => window.removeEventListener('hashchange', this.onHash),
    ];
  }

  override disconnectedCallback(): void {
    super.disconnectedCallback();
    for (const off of this.unbind) off();
    this.unbind = [];
    this.mam?.destroy();
  }

  override firstUpdated(): void {
    void this.boot();
  }

  override updated(changed: Map<string, unknown>): void {
    // The drawer opened or closed: fit into the canvas it leaves, unless the user moved the view.
    if (changed.has('trainOpen')) void this.mam?.refitCover();
  }

  private onResize = () => this.mam?.updateCover();

  private async boot() {
    const container = this.querySelector('.canvas') as HTMLElement;
    const editor = new NodeEditor<Schemes>();
    // eslint-disable-next-line @typescript-eslint/no-explicit-any
    const area = new AreaPlugin<Schemes, any>(container);
    editor.use(area);
    this.presetDocs = presets(this.catalogue);
    const mam = installMamStudio(editor, area, {
      catalogue: this.catalogue,
      presets: this.presetDocs,
      minimap: true,
      // The Train drawer lies over the canvas's right part while open.
      overlays: () => [...this.querySelectorAll('mam-train-panel')],
    });
    this.mam = mam;
    mam.on('change', ({ doc, kind }) => {
      this.revision++;
      // Narrow toolbars hide the title; the window's title always has it.
      document.title = `${doc.metadata?.title ?? 'Untitled'} · mam-studio`;
      // A load shows what was just read (autosave, link, demo): nothing new to keep.
      if (kind !== 'load') this.saver.save(saveGraph(doc));
    });
    mam.on('selection', (ids) => (this.selected = ids));
    mam.on('hint', ({ message, level }) => this.toast(message, level));
    window.__mam = {
      get doc() {
        return mam.store.doc;
      },
      get analysis() {
        return mam.getAnalysis();
      },
      get selected() {
        return mam.getSelected();
      },
      get selectedLink() {
        return mam.getSelectedLink();
      },
      get zoom() {
        return area.area.transform.k;
      },
      get canUndo() {
        return mam.store.canUndo;
      },
      get undoDepth() {
        return mam.store.undoDepth;
      },
      saveText: () => saveGraph(mam.store.doc),
      idle: () => mam.whenIdle(),
      get training() {
        return document.querySelector<TrainPanel>('mam-train-panel')?.summary;
      },
    };
    container.addEventListener('dragover', (e) => {
      if (e.dataTransfer?.types.includes('Files')) e.preventDefault();
    });
    container.addEventListener('drop', (e) => {
      const file = e.dataTransfer?.files[0];
      if (!file) return;
      e.preventDefault();
      void this.openFile(file);
    });
    await this.openInitial();
    this.dataset.ready = 'true';
  }

  /** A shared link first, then the autosave, then the demo. */
  private async openInitial() {
    const mam = this.mam as MamStudio;
    if (location.hash.startsWith(FRAGMENT_PREFIX) && (await this.openFragment(location.hash, true)))
      return;
    const saved = await readAutosave();
    if (saved) {
      const r = loadGraph(saved, this.catalogue);
      if (r.ok) {
        await mam.loadDoc(r.graph, 'restore autosave');
        this.toast('Restored your last session.');
        return;
      }
    }
    try {
      const res = await fetch(DEMO_PRESET);
      const r = loadGraph(await res.text(), this.catalogue);
      await mam.loadDoc(r.ok ? r.graph : structuredClone(this.presetDocs['demo-mam']), 'demo');
    } catch {
      await mam.loadDoc(structuredClone(this.presetDocs['demo-mam']), 'demo');
    }
  }

  private onHash = () => {
    if (location.hash.startsWith(FRAGMENT_PREFIX)) void this.openFragment(location.hash, false);
  };

  private async openFragment(hash: string, initial: boolean): Promise<boolean> {
    const r = decodeGraphFragment(hash, this.catalogue);
    history.replaceState(null, '', location.pathname + location.search);
    if (!r.ok) {
      this.report = {
        title: 'Could not open the shared link',
        issues: [{ path: '$', severity: 'error', message: r.message }],
        kept: true,
      };
      return false;
    }
    await this.open(r.graph, 'shared link', r.issues, initial);
    return true;
  }

  /** Shows a document: as the first document (no history) or as an undoable replacement. */
  private async open(doc: GraphDoc, source: string, issues: GraphIssue[] = [], initial = false) {
    const mam = this.mam as MamStudio;
    if (initial) await mam.loadDoc(doc, `open ${source}`);
    else {
      mam.dispatch({ type: 'replace', doc, label: `open ${source}` }, `open ${source}`);
      await mam.zoomToFit();
    }
    if (issues.length) {
      this.report = {
        title: `Opened ${source} with ${issues.length} problem${issues.length > 1 ? 's' : ''}`,
        issues,
        kept: false,
      };
    } else if (!source.startsWith('preset') && !source.startsWith('a new'))
      this.toast(`Opened ${source}.`);
  }

  private async openFile(file: File) {
    const r = await readGraphFile(file, this.catalogue);
    if (!r.ok) {
      this.report = { title: `Could not open ${r.source}`, issues: r.issues, kept: true };
      return;
    }
    await this.open(r.doc, r.source, r.issues);
  }

  private pickFile() {
    const input = this.querySelector('input[type=file]') as HTMLInputElement;
    input.value = '';
    input.click();
  }

  private save() {
    const doc = this.mam?.store.doc;
    if (!doc) return;
    download(graphFileName(doc), new Blob([saveGraph(doc)], { type: 'application/json' }));
    this.toast(`Saved ${graphFileName(doc)}.`);
  }

  private async exportPng() {
    const mam = this.mam;
    if (!mam) return;
    try {
      const bytes = await exportGraphPng(mam.store.doc, mam.getAnalysis(), this.catalogue);
      download(
        graphFileName(mam.store.doc, 'png'),
        new Blob([bytes as BlobPart], { type: 'image/png' }),
      );
    } catch (e) {
      this.toast(`PNG export failed: ${(e as Error).message}`, 'error');
    }
  }

  private share() {
    const doc = this.mam?.store.doc;
    if (!doc) return;
    this.shareUrl = `${location.origin}${location.pathname}${encodeGraphToFragment(doc)}`;
    navigator.clipboard?.writeText(this.shareUrl).then(
      () => this.toast('Link copied to the clipboard.'),
      () => undefined,
    );
  }

  private copy(cut: boolean) {
    const mam = this.mam;
    const selected = mam?.getSelected() ?? [];
    if (!mam || !selected.length) return;
    if (cut) {
      const r = cutSelection(mam.store.doc, selected);
      this.clipboard = r.clipboard;
      mam.dispatch(r.command, `cut ${selected.length} nodes`);
    } else this.clipboard = copySelection(mam.store.doc, selected);
    navigator.clipboard?.writeText(clipboardToText(this.clipboard)).catch(() => undefined);
    this.toast(
      `${cut ? 'Cut' : 'Copied'} ${this.clipboard.nodes.length} node${this.clipboard.nodes.length > 1 ? 's' : ''}.`,
    );
  }

  private async paste() {
    const mam = this.mam;
    if (!mam) return;
    let clip = this.clipboard;
    if (!clip) {
      const text = await navigator.clipboard?.readText().catch(() => undefined);
      const r = text ? clipboardFromText(text) : undefined;
      if (!r?.ok)
        return this.toast(r ? `Nothing to paste: ${r.message}.` : 'Nothing to paste.', 'error');
      clip = r.clipboard;
    }
    const r = pasteClipboard(mam.store.doc, clip);
    mam.dispatch(r.command, `paste ${clip.nodes.length} nodes`);
    await mam.whenIdle();
    await mam.select(Object.values(r.ids));
  }

  private toast(message: string, level: 'info' | 'error' = 'info') {
    const id = ++this.toastId;
    this.toasts = [...this.toasts.slice(-1), { id, message, level }];
    setTimeout(
      () => (this.toasts = this.toasts.filter((t) => t.id !== id)),
      level === 'error' ? 8000 : 4000,
    );
  }

  private onPaletteDrag = (e: CustomEvent<PaletteDragDetail>) =>
    this.mam?.previewDrop(e.detail.type, e.detail.event);
  private onPaletteDrop = (e: CustomEvent<PaletteDragDetail>) => {
    this.mam?.previewDrop(undefined);
    this.mam?.dropKind(e.detail.type, e.detail.event);
  };
  private onPaletteClick = (e: CustomEvent<PaletteDragDetail>) => this.mam?.addNode(e.detail.type);

  private arrange() {
    const mam = this.mam;
    if (!mam) return;
    mam.dispatch(autoArrange(mam.store.doc, this.catalogue), 'auto-arrange');
    void mam.zoomToFit();
  }

  private async openPreset(name: string) {
    const doc = this.presetDocs[name];
    if (doc) await this.open(structuredClone(doc), `preset ${name}`);
  }

  override render() {
    const mam = this.mam;
    const doc = mam?.store.doc;
    const analysis = mam?.getAnalysis();
    const one = this.selected.length === 1 ? this.selected[0] : undefined;
    const index = one && doc ? doc.nodes.findIndex((n) => n.id === one) : -1;
    const errors = analysis?.issues.length ?? 0;
    return html`
      <header class="toolbar">
        <h1 class="brand">mam-studio</h1>
        <span class="doc-title" title=${doc?.metadata?.description ?? ''}
          >${doc?.metadata?.title ?? 'Untitled'}</span
        >
        <span class="spacer"></span>
        <button
          data-testid="new"
          @click=${() => void this.open(emptyGraph(), 'a new graph')}
          title="New graph"
        >
          New
        </button>
        <button
          data-testid="open"
          @click=${() => this.pickFile()}
          title="Open a .json graph or a PNG exported by mam-studio"
        >
          Open…
        </button>
        <button data-testid="save" @click=${() => this.save()} title="Save as .json (Ctrl+S)">
          Save
        </button>
        <select
          data-testid="presets"
          aria-label="Presets"
          @change=${(e: Event) => {
            const sel = e.target as HTMLSelectElement;
            void this.openPreset(sel.value);
            sel.value = '';
          }}
        >
          <option value="">Presets…</option>
          ${Object.entries(this.presetDocs).map(([name, d]) => html`<option value=${name}>${d.metadata?.title ?? name}</option>`)}
        </select>
        <button
          data-testid="share"
          @click=${() => this.share()}
          title="A link that opens this graph"
        >
          Share link
        </button>
        <button
          data-testid="export-png"
          @click=${() => void this.exportPng()}
          title="PNG of the graph that opens back as the graph"
        >
          Export PNG
        </button>
        <span class="sep"></span>
        <button
          data-testid="undo"
          ?disabled=${!mam?.store.canUndo}
          @click=${() => mam?.store.undo()}
          title="Undo (Ctrl+Z)"
        >
          Undo
        </button>
        <button
          data-testid="redo"
          ?disabled=${!mam?.store.canRedo}
          @click=${() => mam?.store.redo()}
          title="Redo (Ctrl+Shift+Z)"
        >
          Redo
        </button>
        <button
          data-testid="arrange"
          @click=${() => this.arrange()}
          title="Arrange the graph as a U"
        >
          Auto-arrange
        </button>
        <button
          data-testid="fit"
          @click=${() => void mam?.zoomToFit()}
          title="Fit the graph in view (0)"
        >
          Fit
        </button>
        <span class="menu-anchor">
          <button
            data-testid="convert-menu"
            class=${this.convertOpen ? 'active' : ''}
            aria-haspopup="menu"
            aria-expanded=${String(this.convertOpen)}
            @pointerdown=${(e: Event) => e.stopPropagation()}
            @click=${() => (this.convertOpen = !this.convertOpen)}
            title="Convert the selected node's stage, its encoder or decoder, or the whole network to MAM (ISTS or STS) or back to SAM"
          >
            Convert ▾
          </button>
          ${
            this.convertOpen && mam
              ? html`<mam-menu
                  class="toolbar-menu"
                  .items=${mam.conversions(one)}
                  .onHide=${() => (this.convertOpen = false)}
                ></mam-menu>`
              : nothing
          }
        </span>
        <span class="sep"></span>
        <button
          data-testid="train-toggle"
          class=${this.trainOpen ? 'active' : ''}
          @click=${() => (this.trainOpen = !this.trainOpen)}
          title="Train and evaluate this graph in the browser"
        >
          Train
        </button>
        <button
          data-testid="help"
          @click=${() => (this.helpOpen = !this.helpOpen)}
          title="Keyboard shortcuts (?)"
        >
          ?
        </button>
      </header>
      <aside class="palette-pane">
        <mam-palette
          .catalogue=${this.catalogue}
          @palette-drag=${this.onPaletteDrag}
          @palette-drop=${this.onPaletteDrop}
          @palette-click=${this.onPaletteClick}
        ></mam-palette>
      </aside>
      <main class="canvas-pane">
        <div class="canvas" data-testid="canvas"></div>
        <div class="legend">
          <span><i style="background:#3b82c4"></i>image</span
          ><span><i style="background:#3f9a5a"></i>tokens</span
          ><span><i class="mem"></i>memory</span><span><i style="background:#9b59b6"></i>mask</span>
        </div>
      </main>
      <aside class="side-pane">
        <section class="inspector-pane">
          <h2>Inspector</h2>
          <mam-inspector
            .catalogue=${this.catalogue}
            .node=${index >= 0 ? doc?.nodes[index] : undefined}
            .index=${index}
            .info=${one ? analysis?.nodes.get(one) : undefined}
            .count=${this.selected.length}
            @param-change=${(e: CustomEvent<{ id: string; params: Record<string, ParamValue> }>) =>
              mam?.dispatch(
                { type: 'set-params', id: e.detail.id, params: e.detail.params },
                `set ${Object.keys(e.detail.params).join(', ')} of ${e.detail.id}`,
              )}
            @label-change=${(e: CustomEvent<{ id: string; label: string | undefined }>) =>
              mam?.dispatch(
                { type: 'set-label', id: e.detail.id, label: e.detail.label },
                `label ${e.detail.id}`,
              )}
          ></mam-inspector>
        </section>
        <section class="problems-pane">
          <h2>Problems <span class="count ${errors ? 'bad' : ''}">${errors}</span></h2>
          <mam-problems
            .analysis=${analysis}
            .doc=${doc}
            @problem-select=${(e: CustomEvent<{ node: string }>) => void this.selectAndShow(e.detail.node)}
          ></mam-problems>
        </section>
      </aside>
      <footer class="totals-pane">
        <mam-totals .analysis=${analysis} .doc=${doc}></mam-totals>
      </footer>
      <input
        type="file"
        hidden
        accept=".json,.png,application/json,image/png"
        data-testid="file-input"
        @change=${(e: Event) => {
          const f = (e.target as HTMLInputElement).files?.[0];
          if (f) void this.openFile(f);
        }}
      />
      <mam-train-panel
        .doc=${doc}
        .analysis=${analysis}
        ?open=${this.trainOpen}
        @close=${() => (this.trainOpen = false)}
      ></mam-train-panel>
      <div class="toasts" aria-live="polite">
        ${this.toasts.map((t) => html`<div class="toast ${t.level}" data-testid="toast">${t.message}</div>`)}
      </div>
      ${this.report ? this.renderReport(this.report) : nothing}
      ${this.shareUrl ? this.renderShare(this.shareUrl) : nothing}
      ${this.helpOpen ? this.renderShortcuts() : nothing}
    `;
  }

  private async selectAndShow(id: string) {
    await this.mam?.select([id]);
    await this.mam?.centerOn(id);
  }

  private renderReport(r: LoadReport) {
    return html`<div class="dialog" role="dialog" data-testid="load-report">
      <h3>${r.title}</h3>
      ${r.kept ? html`<p>Nothing was changed: the graph you had open is still open.</p>` : html`<p>Everything that could be read was loaded. What could not:</p>`}
      <ul>
        ${r.issues.map((i) => html`<li><code>${i.path}</code> ${i.message}</li>`)}
      </ul>
      <button data-testid="report-close" @click=${() => (this.report = undefined)}>Close</button>
    </div>`;
  }

  private renderShortcuts() {
    return html`<div class="dialog shortcuts" role="dialog" data-testid="shortcuts">
      <h3>Keyboard shortcuts</h3>
      <table>
        ${SHORTCUTS.map(
          (s) =>
            html`<tr data-testid="shortcut" data-action=${s.action}>
              <td>${s.chords.map((c) => html`<kbd>${chordText(c)}</kbd> `)}</td>
              <td>${s.label}</td>
            </tr>`,
        )}
      </table>
      <p class="note">
        Undo and redo also work from an inspector field once its value is committed (Tab or Enter).
      </p>
      <h3>Mouse</h3>
      <table>
        ${GESTURES.map(
          (g) =>
            html`<tr data-testid="gesture">
              <td><kbd>${g.gesture}</kbd></td>
              <td>${g.label}</td>
            </tr>`,
        )}
      </table>
      <button data-testid="shortcuts-close" @click=${() => (this.helpOpen = false)}>Close</button>
    </div>`;
  }

  private renderShare(url: string) {
    return html`<div class="dialog" role="dialog" data-testid="share-dialog">
      <h3>Share link</h3>
      <p>
        Anyone who opens this link gets this graph (it travels inside the link; nothing is
        uploaded).
      </p>
      <input
        readonly
        data-testid="share-url"
        .value=${url}
        @focus=${(e: Event) => (e.target as HTMLInputElement).select()}
      />
      <button data-testid="share-close" @click=${() => (this.shareUrl = undefined)}>Close</button>
    </div>`;
  }
}

customElements.define('mam-app', MamApp);

declare global {
  interface HTMLElementTagNameMap {
    'mam-app': MamApp;
  }
}
