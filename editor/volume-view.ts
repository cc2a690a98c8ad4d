/**
 * A volume in three orthogonal views (axial, coronal, sagittal) through one
 * cursor voxel, with the cross-hair linked between them: the wheel over a
 * view scrolls its slices, a click or drag in a view moves the cursor there.
 * Window/level and the label overlay (fixed class colours, legend, opacity)
 * as in the slice view; each view as wide and tall as its plane is in mm.
 */
import { LitElement, css, html, nothing } from 'lit';
import { DEFAULT_DISPLAY, type SliceDisplay } from './slice-pixels.ts';
import { classLegend, displayInput, sliceViewStyles } from './slice-controls.ts';
import {
  PLANES,
  PLANE_AXES,
  centreVoxel,
  crosshair,
  planePixels,
  pointAt,
  scrolled,
  viewSizes,
  type Cursor,
  type Plane,
  type VolumeData,
} from './volume-pixels.ts';

const TITLES: Record<Plane, string> = { axial: 'Axial', coronal: 'Coronal', sagittal: 'Sagittal' };
const AXIS = ['i', 'j', 'k'];
/** The box each view fits in, CSS px. */
const VIEW_BOX = { width: 150, height: 150 };

export class VolumeView extends LitElement {
  static override properties = {
    volume: { attribute: false },
    classNames: { attribute: false },
    cursor: { state: true },
    display: { state: true },
  };
  static override styles = [
    sliceViewStyles,
    css`
      .views {
        display: flex;
        flex-wrap: wrap;
        gap: 8px;
        align-items: flex-start;
      }
      figure {
        margin: 0;
      }
      .frame {
        position: relative;
        background: #000;
        cursor: crosshair;
        touch-action: none;
      }
      canvas {
        display: block;
        width: 100%;
        height: 100%;
        image-rendering: pixelated;
      }
      .h,
      .v {
        position: absolute;
        background: #facc15;
        opacity: 0.8;
        pointer-events: none;
      }
      .h {
        left: 0;
        right: 0;
        height: 1px;
      }
      .v {
        top: 0;
        bottom: 0;
        width: 1px;
      }
      .controls {
        display: flex;
        flex-wrap: wrap;
        gap: 4px 10px;
      }
    `,
  ];

  volume: VolumeData | undefined;
  classNames: string[] = [];
  cursor: Cursor = [0, 0, 0];
  display: SliceDisplay = DEFAULT_DISPLAY;
  private shown: VolumeData | undefined;

  override willUpdate() {
    // A new volume starts at its centre.
    if (this.volume && this.volume !== this.shown) {
      this.shown = this.volume;
      this.cursor = centreVoxel(this.volume);
    }
  }

  override updated() {
    const v = this.volume;
    if (!v) return;
    for (const plane of PLANES) {
      const canvas = this.renderRoot.querySelector<HTMLCanvasElement>(`canvas.${plane}`);
      const ctx = canvas?.getContext('2d');
      if (!canvas || !ctx) continue;
      const p = planePixels(v, plane, this.cursor, this.display);
      canvas.width = p.width;
      canvas.height = p.height;
      ctx.putImageData(new ImageData(p.pixels, p.width, p.height), 0, 0);
    }
  }

  private onWheel(plane: Plane, e: WheelEvent) {
    if (!this.volume || !e.deltaY) return;
    e.preventDefault();
    this.cursor = scrolled(this.volume, plane, this.cursor, Math.sign(e.deltaY));
  }

  private onPointer(plane: Plane, e: PointerEvent) {
    if (!this.volume || (e.type === 'pointermove' && !e.buttons)) return;
    const r = (e.currentTarget as HTMLElement).getBoundingClientRect();
    const x = (e.clientX - r.left) / r.width;
    const y = (e.clientY - r.top) / r.height;
    this.cursor = pointAt(this.volume, plane, this.cursor, x, y);
  }

  private view(v: VolumeData, plane: Plane, size: { width: number; height: number }) {
    const { normal } = PLANE_AXES[plane];
    const c = crosshair(v, plane, this.cursor);
    return html`<figure data-testid="volume-${plane}">
      <figcaption>
        ${TITLES[plane]}
        <span class="muted">${AXIS[normal]} ${this.cursor[normal] + 1} of ${v.dims[normal]}</span>
      </figcaption>
      <div
        class="frame"
        data-testid="volume-frame"
        data-plane=${plane}
        data-cross=${`${(c.x * size.width).toFixed(2)},${(c.y * size.height).toFixed(2)}`}
        style="width:${size.width}px;height:${size.height}px"
        @wheel=${(e: WheelEvent) => this.onWheel(plane, e)}
        @pointerdown=${(e: PointerEvent) => this.onPointer(plane, e)}
        @pointermove=${(e: PointerEvent) => this.onPointer(plane, e)}
      >
        <canvas class=${plane}></canvas>
        <div class="h" style="top:${c.y * 100}%"></div>
        <div class="v" style="left:${c.x * 100}%"></div>
      </div>
    </figure>`;
  }

  private displayInput(key: keyof SliceDisplay, label: string, min: number) {
    return displayInput(this.display, key, label, min, 'volume', (d) => (this.display = d));
  }

  override render() {
    const v = this.volume;
    if (!v) return nothing;
    const sizes = viewSizes(v, VIEW_BOX);
    const present = new Set(v.label ?? []);
    const [i, j, k] = this.cursor;
    return html`
      <div class="views">${PLANES.map((p) => this.view(v, p, sizes[p]))}</div>
      <div class="muted" data-testid="volume-cursor">
        voxel (${i}, ${j}, ${k}) of ${v.dims.join('×')}, spacing
        ${v.spacing.map((s) => s.toFixed(2)).join(' × ')} mm
      </div>
      ${v.label ? classLegend(this.classNames, present, 'not in this case', 'volume-legend') : nothing}
      <div class="controls">
        ${this.displayInput('window', 'Window', 0.02)} ${this.displayInput('level', 'Level', 0)}
        ${v.label ? this.displayInput('opacity', 'Labels', 0) : nothing}
      </div>
    `;
  }
}

customElements.define('mam-volume-view', VolumeView);

declare global {
  interface HTMLElementTagNameMap {
    'mam-volume-view': VolumeView;
  }
}
