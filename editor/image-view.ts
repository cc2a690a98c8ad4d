/**
 * A test slice with its ground truth and the prediction as coloured overlays,
 * side by side, a legend keyed by class name, window/level and overlay
 * opacity, and a slice slider (the mouse wheel over the images scrolls slices).
 */
import { LitElement, css, html } from 'lit';
import type { Preview } from './worker/api.ts';

import { DEFAULT_DISPLAY, overlayPixels, type SliceDisplay } from './slice-pixels.ts';
import { classLegend, displayInput, sliceViewStyles } from './slice-controls.ts';

export { CLASS_COLORS, classColor, overlayPixels } from './slice-pixels.ts';

export class SliceView extends LitElement {
  static override properties = {
    preview: { attribute: false },
    busy: { type: Boolean },
    display: { state: true },
  };
  static override styles = [
    sliceViewStyles,
    css`
      .pair {
        display: flex;
        gap: 10px;
      }
      figure {
        margin: 0;
        flex: 1;
        min-width: 0;
      }
      canvas {
        width: 100%;
        aspect-ratio: 1;
        image-rendering: pixelated;
        border-radius: 4px;
        background: #000;
        display: block;
      }
      .slider {
        display: flex;
        align-items: center;
        gap: 8px;
      }
      .slider input {
        flex: 1;
      }
    `,
  ];

  preview: Preview | undefined;
  busy = false;
  display: SliceDisplay = DEFAULT_DISPLAY;

  private toSlice(index: number) {
    const p = this.preview;
    if (!p || this.busy) return;
    const k = Math.max(0, Math.min(p.slices - 1, index));
    if (k !== p.index) this.dispatchEvent(new CustomEvent('slice-change', { detail: k }));
  }

  private onWheel = (e: WheelEvent) => {
    if (!this.preview) return;
    e.preventDefault();
    this.toSlice(this.preview.index + Math.sign(e.deltaY));
  };

  private displayInput(key: keyof SliceDisplay, label: string, min: number) {
    return displayInput(this.display, key, label, min, 'slice', (d) => (this.display = d));
  }

  override updated() {
    const p = this.preview;
    if (!p) return;
    this.paint('gt', p.label);
    this.paint('pred', p.pred);
  }

  private paint(which: 'gt' | 'pred', labels: Uint8Array) {
    const p = this.preview!;
    const canvas = this.renderRoot.querySelector<HTMLCanvasElement>(`canvas.${which}`);
    const ctx = canvas?.getContext('2d');
    if (!canvas || !ctx) return;
    canvas.width = p.width;
    canvas.height = p.height;
    ctx.putImageData(
      new ImageData(
        overlayPixels(p.image, labels, p.width, p.height, this.display),
        p.width,
        p.height,
      ),
      0,
      0,
    );
  }

  override render() {
    const p = this.preview;
    if (!p)
      return html`<p class="muted">Train or evaluate to see a test slice with its prediction.</p>`;
    const present = new Set<number>([...p.label, ...p.pred]);
    return html`
      <div class="pair" @wheel=${this.onWheel}>
        <figure>
          <figcaption>Ground truth</figcaption>
          <canvas class="gt" data-testid="slice-gt"></canvas>
        </figure>
        <figure>
          <figcaption>Prediction <span class="muted">(step ${p.step})</span></figcaption>
          <canvas class="pred" data-testid="slice-pred"></canvas>
        </figure>
      </div>
      ${classLegend(p.classNames, present, 'not in this slice', 'class-legend')}
      <div class="slider" data-testid="slice-display">
        ${this.displayInput('window', 'Window', 0.02)} ${this.displayInput('level', 'Level', 0)}
        ${this.displayInput('opacity', 'Labels', 0)}
      </div>
      <label class="slider">
        <span
          >${p.caseId ? `${p.caseId}, ` : ''}${p.split} slice ${p.index + 1} of ${p.slices}</span
        >
        <input
          type="range"
          min="0"
          max=${p.slices - 1}
          .value=${String(p.index)}
          ?disabled=${this.busy}
          data-testid="slice-slider"
          @change=${(e: Event) =>
            this.dispatchEvent(
              new CustomEvent('slice-change', {
                detail: Number((e.target as HTMLInputElement).value),
              }),
            )}
        />
      </label>
    `;
  }
}

customElements.define('mam-slice-view', SliceView);

declare global {
  interface HTMLElementTagNameMap {
    'mam-slice-view': SliceView;
  }
}
