/**
 * A test slice with its ground truth and the prediction as coloured overlays,
 * side by side, a legend keyed by class name and a slice slider.
 */
import { LitElement, css, html, nothing } from 'lit';
import type { Preview } from './worker/api.ts';

/** Class colours (index 0, background, is never drawn). Distinct on a grey MRI. */
export const CLASS_COLORS = [
  '#000000',
  '#e6194b',
  '#3cb44b',
  '#4363d8',
  '#f58231',
  '#ffe119',
  '#911eb4',
  '#42d4f4',
  '#f032e6',
  '#bfef45',
  '#fabed4',
  '#469990',
];

export const classColor = (i: number) => CLASS_COLORS[i % CLASS_COLORS.length];

const rgb = (hex: string) => [1, 3, 5].map((i) => parseInt(hex.slice(i, i + 2), 16));

/**
 * RGBA pixels of a grey image with a label overlay. Rows are flipped so the
 * volume's +j axis (anterior in RAS data) points up, as radiology viewers show it.
 */
export function overlayPixels(
  image: Float32Array,
  labels: Uint8Array | undefined,
  width: number,
  height: number,
  alpha = 0.5,
): Uint8ClampedArray<ArrayBuffer> {
  const out = new Uint8ClampedArray(width * height * 4);
  const colors = CLASS_COLORS.map(rgb);
  for (let y = 0; y < height; y++) {
    const src = (height - 1 - y) * width;
    for (let x = 0; x < width; x++) {
      const g = image[src + x] * 255;
      const o = (y * width + x) * 4;
      const c = labels?.[src + x] ?? 0;
      const a = c ? alpha : 0;
      const col = colors[c % colors.length];
      out[o] = g * (1 - a) + col[0] * a;
      out[o + 1] = g * (1 - a) + col[1] * a;
      out[o + 2] = g * (1 - a) + col[2] * a;
      out[o + 3] = 255;
    }
  }
  return out;
}

export class SliceView extends LitElement {
  static override properties = { preview: { attribute: false }, busy: { type: Boolean } };
  static override styles = css`
    :host {
      display: block;
      font:
        12px system-ui,
        sans-serif;
      color: #334155;
    }
    .pair {
      display: flex;
      gap: 10px;
    }
    figure {
      margin: 0;
      flex: 1;
      min-width: 0;
    }
    figcaption {
      font-weight: 600;
      margin-bottom: 3px;
    }
    canvas {
      width: 100%;
      aspect-ratio: 1;
      image-rendering: pixelated;
      border-radius: 4px;
      background: #000;
      display: block;
    }
    .legend {
      display: flex;
      flex-wrap: wrap;
      gap: 4px 12px;
      margin: 6px 0;
    }
    .legend i {
      display: inline-block;
      width: 10px;
      height: 10px;
      border-radius: 2px;
      margin-right: 4px;
      vertical-align: -1px;
    }
    .slider {
      display: flex;
      align-items: center;
      gap: 8px;
    }
    .slider input {
      flex: 1;
    }
    .muted {
      color: #64748b;
    }
  `;

  preview: Preview | undefined;
  busy = false;

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
      new ImageData(overlayPixels(p.image, labels, p.width, p.height), p.width, p.height),
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
      <div class="pair">
        <figure>
          <figcaption>Ground truth</figcaption>
          <canvas class="gt" data-testid="slice-gt"></canvas>
        </figure>
        <figure>
          <figcaption>Prediction <span class="muted">(step ${p.step})</span></figcaption>
          <canvas class="pred" data-testid="slice-pred"></canvas>
        </figure>
      </div>
      <div class="legend" data-testid="class-legend">
        ${p.classNames.map((name, i) =>
          i === 0
            ? nothing
            : html`<span
                style=${present.has(i) ? '' : 'opacity:0.4'}
                title=${present.has(i) ? '' : 'not in this slice'}
                ><i style="background:${classColor(i)}"></i>${name}</span
              >`,
        )}
      </div>
      <label class="slider">
        <span>${p.split} slice ${p.index + 1} of ${p.slices}</span>
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
