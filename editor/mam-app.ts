/**
 * The editor app's controller: it owns the state (open dialogs, drawer,
 * selection) and the actions (files, links, clipboard, presets), and lays out
 * the views: toolbar, palette, canvas (the Rete view of the document, through
 * the mam-studio plugin), inspector, problems, totals, status line and
 * dialogs. All edits go through the plugin's store as commands.
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
import { testHook } from './test-hook.ts';
import type { LoadReport } from './dialogs.ts';
import { bindShortcuts } from './keyboard.ts';
import type { PaletteDragDetail } from './palette.ts';
import { exportGraphPng } from './png-export.ts';
import './dialogs.ts';
import './inspector.ts';
import './palette.ts';
import './panels.ts';
import type { MamStatus } from './status.ts';
import './status.ts';
import type { ToolbarDetail } from './toolbar.ts';
import './toolbar.ts';
import './ablation-view.ts';
import { analysisRefusal } from './analysis-support.ts';
import './maps-view.ts';
import './train-panel.ts';

const DEMO_PRESET = `${import.meta.env.BASE_URL}presets/demo-mam.json`;

export class MamApp extends LitElement {
  static override properties = {
    report: { state: true },
    shareUrl: { state: true },
    revision: { state: true },
    selected: { state: true },
    trainOpen: { state: true },
    helpOpen: { state: true },
    analysisView: { state: true },
    convertOpen: { state: true },
  };

  report: LoadReport | undefined;
  shareUrl: string | undefined;
  revision = 0;
  selected: string[] = [];
  trainOpen = false;
  helpOpen = false;
  /** The Ablation or Maps view, when open. */
  analysisView: 'ablation' | 'maps' | undefined;
  convertOpen = false;

  /**
   * The node kinds the app offers (palette, inspector, files, links, PNGs, the
   * canvas); a host page sets its own before adding the element.
   */
  catalogue: Catalogue = builtinCatalogue;

  private mam: MamStudio | undefined;
  private clipboard: Clipboard | undefined;
  private saver = autosaver();
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
    window.__mam = testHook(mam, area);
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
    this.querySelector<MamStatus>('mam-status')?.show(message, level);
  }

  private onPaletteDrag = (e: CustomEvent<PaletteDragDetail>) =>
    this.mam?.previewDrop(e.detail.type, e.detail.event);
  private onPaletteDrop = (e: CustomEvent<PaletteDragDetail>) => {
    this.mam?.previewDrop(undefined);
    this.mam?.dropKind(e.detail.type, e.detail.event);
  };
  private onPaletteClick = (e: CustomEvent<PaletteDragDetail>) => this.mam?.addNode(e.detail.type);

  /** The graph's class names, from the Train drawer's class table: one undoable edit of the output node. */
  private setClassNames(names: string[]) {
    const out = this.mam?.store.doc.nodes.find((n) => n.type === 'output');
    if (!out || !this.mam) return;
    this.mam.dispatch(
      { type: 'set-params', id: out.id, params: { classNames: names } },
      `class names of ${out.id}`,
    );
  }

  private arrange() {
    const mam = this.mam;
    if (!mam) return;
    mam.dispatch(autoArrange(mam.store.doc, this.catalogue), 'auto-arrange');
    void mam.zoomToFit();
  }

  /** A toolbar button: what it does. */
  private onToolbar(action: ToolbarDetail['action']) {
    const mam = this.mam;
    switch (action) {
      case 'new':
        return void this.open(emptyGraph(), 'a new graph');
      case 'open':
        return this.pickFile();
      case 'save':
        return this.save();
      case 'share':
        return this.share();
      case 'export-png':
        return void this.exportPng();
      case 'undo':
        return mam?.store.undo();
      case 'redo':
        return mam?.store.redo();
      case 'arrange':
        return this.arrange();
      case 'fit':
        return void mam?.zoomToFit();
      case 'convert-menu':
        return void (this.convertOpen = !this.convertOpen);
      case 'convert-close':
        return void (this.convertOpen = false);
      case 'train':
        return void (this.trainOpen = !this.trainOpen);
      case 'ablation':
      case 'maps':
        return void (this.analysisView = this.analysisView === action ? undefined : action);
      case 'help':
        return void (this.helpOpen = !this.helpOpen);
    }
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
      <mam-toolbar
        .docTitle=${doc?.metadata?.title ?? 'Untitled'}
        .description=${doc?.metadata?.description ?? ''}
        .presets=${Object.entries(this.presetDocs).map(([name, d]) => [name, d.metadata?.title ?? name])}
        .canUndo=${mam?.store.canUndo ?? false}
        .canRedo=${mam?.store.canRedo ?? false}
        .convertOpen=${this.convertOpen}
        .conversions=${this.convertOpen && mam ? mam.conversions(one) : []}
        .trainOpen=${this.trainOpen}
        .refusals=${{ maps: analysisRefusal(doc, 'maps'), ablation: analysisRefusal(doc, 'ablation') }}
        @toolbar=${(e: CustomEvent<ToolbarDetail>) => this.onToolbar(e.detail.action)}
        @preset=${(e: CustomEvent<{ name: string }>) => void this.openPreset(e.detail.name)}
      ></mam-toolbar>
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
        .catalogue=${this.catalogue}
        .analysis=${analysis}
        ?open=${this.trainOpen}
        @close=${() => (this.trainOpen = false)}
        @open-graph=${(e: CustomEvent<{ doc: GraphDoc; source: string }>) =>
          void this.open(structuredClone(e.detail.doc), e.detail.source)}
        @class-names=${(e: CustomEvent<{ names: string[] }>) => this.setClassNames(e.detail.names)}
      ></mam-train-panel>
      <mam-status></mam-status>
      ${
        this.report
          ? html`<mam-load-report
              .report=${this.report}
              @close=${() => (this.report = undefined)}
            ></mam-load-report>`
          : nothing
      }
      ${
        this.shareUrl
          ? html`<mam-share-dialog
              .url=${this.shareUrl}
              @close=${() => (this.shareUrl = undefined)}
            ></mam-share-dialog>`
          : nothing
      }
      ${
        this.analysisView === 'ablation'
          ? html`<mam-ablation-view
              .doc=${doc}
              .catalogue=${this.catalogue}
              @open-graph=${(e: CustomEvent<{ doc: GraphDoc; source: string }>) =>
                void this.open(structuredClone(e.detail.doc), e.detail.source)}
              @close=${() => (this.analysisView = undefined)}
            ></mam-ablation-view>`
          : this.analysisView === 'maps'
            ? html`<mam-maps-view
                .doc=${doc}
                @close=${() => (this.analysisView = undefined)}
              ></mam-maps-view>`
            : nothing
      }
      ${
        this.helpOpen
          ? html`<mam-shortcuts-dialog
              @close=${() => (this.helpOpen = false)}
            ></mam-shortcuts-dialog>`
          : nothing
      }
    `;
  }

  private async selectAndShow(id: string) {
    await this.mam?.select([id]);
    await this.mam?.centerOn(id);
  }
}

customElements.define('mam-app', MamApp);

declare global {
  interface HTMLElementTagNameMap {
    'mam-app': MamApp;
  }
}
