/**
 * A link on the canvas: coloured by socket kind; memory links dashed with
 * their chain's strategy as a label; links with problems red, with the
 * reason at their middle.
 */
import { LitElement, css, html, nothing, svg } from 'lit';
import { shortMessage } from '../format.ts';
import type { MamConnection } from '../schemes.ts';
import { SOCKET_COLORS } from './socket.ts';

interface Point {
  x: number;
  y: number;
}

const clip = (s: string, n: number) => (s.length > n ? `${s.slice(0, n - 1)}…` : s);

export class MamLinkElement extends LitElement {
  static override properties = {
    data: { attribute: false },
    path: { attribute: false },
    start: { attribute: false },
    end: { attribute: false },
  };
  static override styles = css`
    svg {
      overflow: visible !important;
      position: absolute;
      pointer-events: none;
      width: 9999px;
      height: 9999px;
    }
    path.hit {
      fill: none;
      stroke: transparent;
      stroke-width: 14px;
      pointer-events: stroke;
    }
    path.line {
      fill: none;
      stroke-width: 3px;
      pointer-events: none;
    }
    path.memory {
      stroke-dasharray: 9 6;
      stroke-width: 3.5px;
    }
    path.error {
      stroke: #dc2626 !important;
      stroke-width: 3.5px;
    }
    path.highlighted {
      stroke-width: 6px;
    }
    path.selected {
      stroke-width: 6px;
      filter: drop-shadow(0 0 4px rgba(37, 99, 235, 0.9));
    }
    path.hit {
      cursor: pointer;
    }
    g.label {
      pointer-events: auto;
    }
    text {
      font:
        600 12px system-ui,
        sans-serif;
      dominant-baseline: central;
      text-anchor: middle;
    }
  `;

  data!: MamConnection;
  path = '';
  start: Point | null = null;
  end: Point | null = null;

  override render() {
    const c = this.data;
    if (!c) return nothing;
    if (c.isPseudo || !c.problems) {
      // The link being drawn: not in the document yet.
      return html`<svg data-testid="pseudo-link">
        <path class="line" d=${this.path} style="stroke:#64748b;stroke-dasharray:4 4"></path>
      </svg>`;
    }
    const color = SOCKET_COLORS[c.socket] ?? '#64748b';
    const error = c.problems.length > 0;
    const cls = [
      'line',
      c.socket,
      error ? 'error' : '',
      c.highlighted ? 'highlighted' : '',
      c.selected ? 'selected' : '',
    ].join(' ');
    // The classic curve is symmetric, so its point at t=0.5 is the chord's midpoint.
    const mid =
      this.start && this.end
        ? { x: (this.start.x + this.end.x) / 2, y: (this.start.y + this.end.y) / 2 }
        : undefined;
    const hover = (index: number | undefined) => () =>
      this.dispatchEvent(
        new CustomEvent('mam-chain-hover', { detail: { index }, bubbles: true, composed: true }),
      );
    const chainIndex = c.chain?.index;
    return html`<svg
      data-testid="mam-link"
      data-link=${c.id}
      data-socket=${c.socket}
      data-error=${error ? 'yes' : 'no'}
      data-selected=${c.selected ? 'yes' : 'no'}
    >
      <path
        class="hit"
        d=${this.path}
        @click=${() =>
          this.dispatchEvent(
            new CustomEvent('mam-link-click', {
              detail: { key: c.id },
              bubbles: true,
              composed: true,
            }),
          )}
        @mouseenter=${chainIndex !== undefined ? hover(chainIndex) : null}
        @mouseleave=${chainIndex !== undefined ? hover(undefined) : null}
      >
        <title>${error ? c.problems.map(shortMessage).join('\n') : `${c.socket} link`}</title>
      </path>
      <path class=${cls} d=${this.path} style="stroke:${color}"></path>
      ${
        !mid
          ? nothing
          : error
            ? this.label(
                mid,
                `⚠ ${clip(shortMessage(c.problems[0]), 36)}`,
                '#fef2f2',
                '#b91c1c',
                c.problems.join('\n'),
              )
            : c.chain && Math.hypot(this.end!.x - this.start!.x, this.end!.y - this.start!.y) > 90
              ? this.label(
                  mid,
                  c.chain.strategy,
                  '#fef3c7',
                  '#92400e',
                  `memory chain ${c.chain.index + 1} (${c.chain.strategy})`,
                  hover(chainIndex),
                  hover(undefined),
                )
              : nothing
      }
    </svg>`;
  }

  private label(
    at: Point,
    text: string,
    bg: string,
    fg: string,
    title: string,
    enter?: () => void,
    leave?: () => void,
  ) {
    const w = text.length * 6.6 + 14;
    return svg`<g class="label" data-testid="link-label" @mouseenter=${enter ?? null} @mouseleave=${leave ?? null}>
      <title>${title}</title>
      <rect x=${at.x - w / 2} y=${at.y - 10} width=${w} height="20" rx="10" fill=${bg} stroke=${fg} stroke-width="1"></rect>
      <text x=${at.x} y=${at.y} fill=${fg}>${text}</text>
    </g>`;
  }
}

if (!customElements.get('mam-link')) customElements.define('mam-link', MamLinkElement);
