/**
 * The app's toolbar: a view of the controller's state (title, undo/redo,
 * presets, the Convert menu, the Train drawer) that reports each button as a
 * `toolbar` event naming its action; the controller (mam-app) acts on it.
 * Light DOM (the element itself takes no box), styled by styles.css's
 * `.toolbar` rules.
 */
import { LitElement, html, nothing } from 'lit';
import type { MenuItem } from '../src/rete/index.ts';
import type { AnalysisView } from './analysis-support.ts';

export type ToolbarAction =
  | 'new'
  | 'open'
  | 'save'
  | 'share'
  | 'export-png'
  | 'undo'
  | 'redo'
  | 'arrange'
  | 'fit'
  | 'convert-menu'
  | 'convert-close'
  | 'train'
  | 'ablation'
  | 'maps'
  | 'help';

export interface ToolbarDetail {
  action: ToolbarAction;
}

export class MamToolbar extends LitElement {
  static override properties = {
    docTitle: { attribute: false },
    description: { attribute: false },
    presets: { attribute: false },
    canUndo: { attribute: false },
    canRedo: { attribute: false },
    convertOpen: { attribute: false },
    conversions: { attribute: false },
    trainOpen: { attribute: false },
    refusals: { attribute: false },
  };

  docTitle = 'Untitled';
  description = '';
  /** Preset names and titles, in menu order. */
  presets: [string, string][] = [];
  canUndo = false;
  canRedo = false;
  convertOpen = false;
  /** The Convert menu's items while it is open. */
  conversions: MenuItem[] = [];
  trainOpen = false;
  /** Why the Ablation or Maps view cannot serve the open graph: its button is disabled, saying why. */
  refusals: Partial<Record<AnalysisView, string>> = {};

  override createRenderRoot() {
    return this;
  }

  private act(action: ToolbarAction) {
    this.dispatchEvent(new CustomEvent<ToolbarDetail>('toolbar', { detail: { action } }));
  }

  private button(action: ToolbarAction, label: string, title: string, disabled = false) {
    return html`<button
      data-testid=${action}
      ?disabled=${disabled}
      @click=${() => this.act(action)}
      title=${title}
    >
      ${label}
    </button>`;
  }

  override render() {
    return html`<header class="toolbar">
      <h1 class="brand">mam-studio</h1>
      <span class="doc-title" title=${this.description}>${this.docTitle}</span>
      <span class="spacer"></span>
      ${this.button('new', 'New', 'New graph')}
      ${this.button('open', 'Open…', 'Open a .json graph or a PNG exported by mam-studio')}
      ${this.button('save', 'Save', 'Save as .json (Ctrl+S)')}
      <select
        data-testid="presets"
        aria-label="Presets"
        @change=${(e: Event) => {
          const sel = e.target as HTMLSelectElement;
          const name = sel.value;
          sel.value = '';
          if (name)
            this.dispatchEvent(new CustomEvent<{ name: string }>('preset', { detail: { name } }));
        }}
      >
        <option value="">Presets…</option>
        ${this.presets.map(([name, title]) => html`<option value=${name}>${title}</option>`)}
      </select>
      ${this.button('share', 'Share link', 'A link that opens this graph')}
      ${this.button('export-png', 'Export PNG', 'PNG of the graph that opens back as the graph')}
      <span class="sep"></span>
      ${this.button('undo', 'Undo', 'Undo (Ctrl+Z)', !this.canUndo)}
      ${this.button('redo', 'Redo', 'Redo (Ctrl+Shift+Z)', !this.canRedo)}
      ${this.button('arrange', 'Auto-arrange', 'Arrange the graph as a U')}
      ${this.button('fit', 'Fit', 'Fit the graph in view (0)')}
      <span class="menu-anchor">
        <button
          data-testid="convert-menu"
          class=${this.convertOpen ? 'active' : ''}
          aria-haspopup="menu"
          aria-expanded=${String(this.convertOpen)}
          @pointerdown=${(e: Event) => e.stopPropagation()}
          @click=${() => this.act('convert-menu')}
          title="Convert the selected node's stage, its encoder or decoder, or the whole network to MAM (ISTS or STS) or back to SAM"
        >
          Convert ▾
        </button>
        ${
          this.convertOpen
            ? html`<mam-menu
                class="toolbar-menu"
                .items=${this.conversions}
                .onHide=${() => this.act('convert-close')}
              ></mam-menu>`
            : nothing
        }
      </span>
      <span class="sep"></span>
      <button
        data-testid="train-toggle"
        class=${this.trainOpen ? 'active' : ''}
        @click=${() => this.act('train')}
        title="Train and evaluate this graph in the browser"
      >
        Train
      </button>
      ${this.button(
        'ablation',
        'Ablation',
        this.refusals.ablation ?? "Train the paper's variants of this graph over seeds and compare",
        !!this.refusals.ablation,
      )}
      ${this.button(
        'maps',
        'Maps',
        this.refusals.maps ?? 'Attention and memory maps of a pixel',
        !!this.refusals.maps,
      )}
      ${this.button('help', '?', 'Keyboard shortcuts (?)')}
    </header>`;
  }
}

customElements.define('mam-toolbar', MamToolbar);

declare global {
  interface HTMLElementTagNameMap {
    'mam-toolbar': MamToolbar;
  }
}
