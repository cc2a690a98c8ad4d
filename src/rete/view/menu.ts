/**
 * The menu drawn for the canvas context menu and the editor's toolbar menus:
 * items with their submenus (opened in place by a click), kept inside the
 * window.
 */
import { LitElement, css, html, nothing } from 'lit';
import type { MenuItem } from '../menu.ts';

export class MamMenuElement extends LitElement {
  static override properties = {
    items: { attribute: false },
    onHide: { attribute: false },
    open: { state: true },
  };
  static override styles = css`
    :host {
      display: block;
      font:
        13px system-ui,
        sans-serif;
      color: #0f172a;
    }
    .menu {
      position: relative;
      min-width: 230px;
      max-width: 340px;
      max-height: 70vh;
      overflow: auto;
      background: #fff;
      border: 1px solid #cbd5e1;
      border-radius: 8px;
      box-shadow: 0 10px 30px rgba(15, 23, 42, 0.28);
      padding: 4px;
      box-sizing: border-box;
    }
    .item {
      display: flex;
      justify-content: space-between;
      align-items: center;
      gap: 12px;
      width: 100%;
      padding: 6px 10px;
      border: 0;
      border-radius: 5px;
      background: none;
      font: inherit;
      color: inherit;
      text-align: left;
      cursor: pointer;
    }
    .item:hover,
    .item.open,
    .item:focus-visible {
      background: #e0e7ff;
      outline: none;
    }
    .sep {
      height: 1px;
      background: #e2e8f0;
      margin: 4px 6px;
    }
    .arrow {
      color: #64748b;
    }
    .sub {
      border-left: 2px solid #c7d2fe;
      margin: 2px 0 4px 10px;
      padding-left: 2px;
    }
  `;

  items: MenuItem[] = [];
  onHide: (() => void) | undefined;
  /** Keys of the open submenus, outermost first. */
  open: string[] = [];

  override render() {
    return html`<div
      class="menu"
      role="menu"
      data-testid="menu"
      @pointerdown=${(e: Event) => e.stopPropagation()}
      @wheel=${(e: Event) => e.stopPropagation()}
      @contextmenu=${(e: Event) => e.preventDefault()}
    >
      ${this.list(this.items, 0)}
    </div>`;
  }

  override updated() {
    // Keep the menu inside the window: shift it up and left by what overflows
    // where it was placed (measured without an earlier shift).
    this.style.transform = '';
    const r = this.getBoundingClientRect();
    const dx = Math.max(0, r.right - innerWidth + 4);
    const dy = Math.max(0, r.bottom - innerHeight + 4);
    if (dx || dy) this.style.transform = `translate(${-dx}px, ${-dy}px)`;
  }

  private list(items: MenuItem[], depth: number): unknown {
    return items.map((item) => {
      if (item.key.startsWith('sep')) return html`<div class="sep" role="separator"></div>`;
      const isOpen = this.open[depth] === item.key;
      return html`<button
          class="item ${isOpen ? 'open' : ''}"
          role="menuitem"
          data-testid="menu-item"
          data-key=${item.key}
          aria-haspopup=${item.subitems ? 'menu' : nothing}
          aria-expanded=${item.subitems ? String(isOpen) : nothing}
          @click=${() => this.choose(item, depth)}
        >
          <span>${item.label}</span>${item.subitems ? html`<span class="arrow">▸</span>` : nothing}
        </button>
        ${
          isOpen && item.subitems
            ? html`<div class="sub" role="menu">${this.list(item.subitems, depth + 1)}</div>`
            : nothing
        }`;
    });
  }

  private toggle(depth: number, key: string, on: boolean) {
    this.open = on ? [...this.open.slice(0, depth), key] : this.open.slice(0, depth);
  }

  private choose(item: MenuItem, depth: number) {
    if (item.subitems) return this.toggle(depth, item.key, this.open[depth] !== item.key);
    item.handler();
    this.open = [];
    this.onHide?.();
  }
}

if (!customElements.get('mam-menu')) customElements.define('mam-menu', MamMenuElement);
