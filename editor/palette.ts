/**
 * The palette: every node kind, grouped by category and searchable. Items are
 * dragged with the pointer onto the canvas (to add, or onto a SAM/MAM block
 * to swap it); a click adds the kind in the middle of the view.
 */
import { LitElement, css, html } from 'lit';
import type { Catalogue, NodeKind } from '../src/graph/node-kind.ts';
import { headerColor } from '../src/rete/index.ts';

export interface PaletteDragDetail {
  type: string;
  event: PointerEvent;
}

const CATEGORY_TITLES: Record<string, string> = {
  input: 'Input',
  embedding: 'Embedding',
  attention: 'Attention (SAM / MAM)',
  memory: 'Memory resampling',
  resampling: 'Resampling',
  skip: 'Skip connections',
  cnn: 'CNN (ResNet, convolutions, CUP decoder)',
  'dual-attention': 'Dual attention (PAM + CAM)',
  norm: 'Normalisation',
  head: 'Head',
  output: 'Output',
  '3d:embedding': '3D embedding and stem',
  '3d:attention': '3D attention (SAM / MAM, cross-attention)',
  '3d:resampling': '3D resampling',
  '3d:cnn': '3D CNN (MONAI blocks, convolutions)',
  '3d:norm': '3D normalisation',
  '3d:head': '3D head',
};

/** The palette section of a kind: its category, or the category's 3D section for volume kinds. */
const section = (k: NodeKind) => (k.volume ? `3d:${k.category}` : k.category);

const sectionTitle = (s: string) => CATEGORY_TITLES[s] ?? s.replace(/^3d:/, '3D ');

export class MamPalette extends LitElement {
  static override properties = { query: { state: true }, catalogue: { attribute: false } };
  static override styles = css`
    :host {
      display: flex;
      flex-direction: column;
      min-height: 0;
      font:
        13px system-ui,
        sans-serif;
    }
    input {
      margin: 8px;
      padding: 6px 8px;
      border: 1px solid #cbd5e1;
      border-radius: 6px;
      font: inherit;
    }
    .list {
      overflow: auto;
      padding: 0 8px 12px;
    }
    h3 {
      margin: 10px 2px 4px;
      font-size: 11px;
      text-transform: uppercase;
      letter-spacing: 0.04em;
      color: #64748b;
    }
    .item {
      display: flex;
      align-items: center;
      gap: 8px;
      padding: 5px 8px;
      margin: 2px 0;
      border-radius: 6px;
      background: #fff;
      border: 1px solid #e2e8f0;
      cursor: grab;
      user-select: none;
      touch-action: none;
    }
    .item:hover {
      border-color: #94a3b8;
      background: #f8fafc;
    }
    .swatch {
      width: 10px;
      height: 10px;
      border-radius: 3px;
      flex: none;
    }
    .empty {
      color: #64748b;
      padding: 8px;
    }
  `;

  query = '';
  /** The node kinds to offer, in palette order (the app's catalogue). */
  catalogue: Catalogue = new Map();

  override render() {
    const q = this.query.trim().toLowerCase();
    const match = (k: NodeKind) =>
      !q ||
      `${k.title} ${k.type} ${k.category} ${k.volume ? '3D volume' : ''} ${k.description}`
        .toLowerCase()
        .includes(q);
    const kinds = [...this.catalogue.values()].filter(match);
    const categories = [...new Set(kinds.map(section))];
    return html`<input
        type="search"
        placeholder="Search nodes…"
        aria-label="Search nodes"
        .value=${this.query}
        @input=${(e: Event) => (this.query = (e.target as HTMLInputElement).value)}
      />
      <div class="list">
        ${categories.map(
          (c) =>
            html`<h3 data-testid="palette-section">${sectionTitle(c)}</h3>
              ${kinds
                .filter((k) => section(k) === c)
                .map(
                  (k) =>
                    html`<div
                      class="item"
                      data-testid="palette-item"
                      data-type=${k.type}
                      title=${k.description}
                      @pointerdown=${(e: PointerEvent) => this.startDrag(e, k)}
                    >
                      <span class="swatch" style="background:${headerColor({ kind: k })}"></span
                      >${k.title}
                    </div>`,
                )}`,
        )}
        ${kinds.length ? '' : html`<div class="empty">No node kind matches “${this.query}”.</div>`}
      </div>`;
  }

  private startDrag(down: PointerEvent, kind: NodeKind) {
    if (down.button !== 0) return;
    down.preventDefault();
    let ghost: HTMLElement | undefined;
    const fire = (name: string, event: PointerEvent) =>
      this.dispatchEvent(
        new CustomEvent<PaletteDragDetail>(name, {
          detail: { type: kind.type, event },
          bubbles: true,
          composed: true,
        }),
      );
    const move = (e: PointerEvent) => {
      if (!ghost && Math.hypot(e.clientX - down.clientX, e.clientY - down.clientY) < 4) return;
      if (!ghost) {
        ghost = document.createElement('div');
        ghost.className = 'mam-drag-ghost';
        ghost.textContent = kind.title;
        ghost.style.background = headerColor({ kind });
        document.body.append(ghost);
      }
      ghost.style.left = `${e.clientX + 8}px`;
      ghost.style.top = `${e.clientY + 8}px`;
      fire('palette-drag', e);
    };
    const up = (e: PointerEvent) => {
      window.removeEventListener('pointermove', move);
      window.removeEventListener('pointerup', up);
      if (ghost) {
        ghost.remove();
        fire('palette-drop', e);
      } else fire('palette-click', e);
    };
    window.addEventListener('pointermove', move);
    window.addEventListener('pointerup', up);
  }
}

customElements.define('mam-palette', MamPalette);
