/** A socket dot, coloured and shaped by its socket kind (memory: dashed diamond). */
import { LitElement, css, html } from 'lit';
import type { SocketName } from '../schemes.ts';

export const SOCKET_COLORS: Record<SocketName, string> = {
  image: '#3b82c4',
  tokens: '#3f9a5a',
  memory: '#d97706',
  mask: '#9b59b6',
  scalar: '#6b7280',
  unknown: '#9ca3af',
};

export class MamSocketElement extends LitElement {
  static override properties = { kind: { type: String } };
  static override styles = css`
    :host {
      display: inline-block;
      padding: 5px;
      cursor: crosshair;
    }
    .dot {
      width: 12px;
      height: 12px;
      border-radius: 50%;
      border: 2px solid #fff;
      box-shadow: 0 0 0 1px rgba(0, 0, 0, 0.35);
      box-sizing: border-box;
    }
    .dot.memory {
      border-radius: 2px;
      transform: rotate(45deg);
      border: 2px dashed #fff;
    }
    :host(:hover) .dot {
      box-shadow: 0 0 0 3px rgba(0, 0, 0, 0.35);
    }
  `;

  kind: SocketName = 'unknown';

  override render() {
    return html`<div
      class="dot ${this.kind}"
      style="background:${SOCKET_COLORS[this.kind]}"
      title="${this.kind} socket"
    ></div>`;
  }
}

if (!customElements.get('mam-socket')) customElements.define('mam-socket', MamSocketElement);
