/**
 * The status line: short messages (toasts) that say what just happened or
 * went wrong, each shown for a while (errors longer), at most two at once.
 * The controller calls `show`; this view keeps and expires them.
 */
import { LitElement, html } from 'lit';

interface Toast {
  id: number;
  message: string;
  level: 'info' | 'error';
}

export class MamStatus extends LitElement {
  static override properties = { toasts: { state: true } };
  toasts: Toast[] = [];
  private next = 0;

  override createRenderRoot() {
    return this;
  }

  show(message: string, level: 'info' | 'error' = 'info'): void {
    const id = ++this.next;
    this.toasts = [...this.toasts.slice(-1), { id, message, level }];
    // How long a message stays up (a display duration, not a wait for anything).
    setTimeout(
      () => (this.toasts = this.toasts.filter((t) => t.id !== id)),
      level === 'error' ? 8000 : 4000,
    );
  }

  override render() {
    return html`<div class="toasts" aria-live="polite">
      ${this.toasts.map(
        (t) => html`<div class="toast ${t.level}" data-testid="toast">${t.message}</div>`,
      )}
    </div>`;
  }
}

customElements.define('mam-status', MamStatus);

declare global {
  interface HTMLElementTagNameMap {
    'mam-status': MamStatus;
  }
}
