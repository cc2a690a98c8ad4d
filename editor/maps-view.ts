/**
 * The Maps view: a test slice of the demo set; click a pixel and every
 * attention unit shows that pixel's attention over its window, and MAM units
 * the softmax without the memory term, the difference and ‖m‖ per token
 * (src/analysis/maps.ts, computed in a training worker of its own, with the
 * run this browser keeps for the open graph, else its initialisation).
 * The view follows the open graph: an edit that changes what a compile sees
 * (a conversion, a parameter, a link) computes the maps again in a fresh
 * worker for the graph as it is now, and maps of an earlier graph are never
 * shown.
 */
import { LitElement, html, nothing } from 'lit';
import { mapPictures, type Picture } from '../src/analysis/maps-png.ts';
import type { GraphDoc } from '../src/graph/types.ts';
import { analysisRefusal } from './analysis-support.ts';
import { TrainClient } from './train-client.ts';
import { compileKey, type SliceMaps } from './worker/api.ts';

const DEMO_URL = `${import.meta.env.BASE_URL}data/demo/`;

export class MamMapsView extends LitElement {
  static override properties = {
    doc: { attribute: false },
    status: { state: true },
    maps: { state: true },
    index: { state: true },
  };
  doc: GraphDoc | undefined;
  status = '';
  maps: SliceMaps | undefined;
  index = 10;
  /** The pixel last asked for: a graph edit maps it again. */
  private pixel: [number, number] = [64, 64];
  /** The worker, its graph's compile key, and its start (compile, demo data, stored run). */
  private client: { key: string; c: TrainClient; ready: Promise<TrainClient> } | undefined;
  /** The compile key of the graph the maps shown (or being computed) are of. */
  private mapsKey: string | undefined;

  override createRenderRoot() {
    return this;
  }

  override disconnectedCallback(): void {
    super.disconnectedCallback();
    this.client?.c.terminate();
    this.client = undefined;
  }

  override willUpdate(changed: Map<string, unknown>): void {
    // The first render and every edit a compile sees: maps for the graph as it is now.
    // (A move or a label changes the document, not its compile key: nothing to compute.)
    if (!changed.has('doc')) return;
    const key = this.doc && compileKey(this.doc);
    if (key !== this.mapsKey) {
      this.maps = undefined;
      this.mapsKey = key;
      void this.compute(this.pixel);
    }
  }

  /** The graph's compile key, when it is still the open graph's. */
  private isCurrent(key: string): boolean {
    return !!this.doc && compileKey(this.doc) === key;
  }

  /**
   * A worker with `doc` compiled, the demo data and the run kept for that
   * graph (if any). A new graph gets a new worker (the one before is ended
   * with whatever it was computing): a worker's session carries weights from
   * graph to graph and writes them to the run it restored, which the Maps view
   * must neither show nor do.
   */
  private prepare(doc: GraphDoc, key: string): Promise<TrainClient> {
    if (this.client?.key === key) return this.client.ready;
    this.client?.c.terminate();
    const c = new TrainClient(() => {});
    const say = (s: string) => {
      if (this.client?.c === c) this.status = s;
    };
    const ready = (async () => {
      say('loading the model and the demo data…');
      await c.call((w) => w.init('auto'));
      const r = await c.call((w) => w.compile(doc));
      if (!r.ok) throw new Error(`the graph has errors: ${r.errors[0]?.message ?? ''}`);
      await c.call((w) => w.loadDemo(DEMO_URL));
      const restored = await c.call((w) => w.restore());
      say(
        restored.status === 'restored'
          ? `weights: the run kept in this browser`
          : 'weights: the initialisation (no run kept for this graph)',
      );
      return c;
    })();
    this.client = { key, c, ready };
    return ready;
  }

  private async compute(pixel: [number, number]) {
    this.pixel = pixel;
    const doc = this.doc;
    if (!doc) return;
    // A volume graph (opened while the view is open) is not run on the 2D demo slices.
    const refusal = analysisRefusal(doc, 'maps');
    if (refusal) {
      this.status = refusal;
      this.maps = undefined;
      return;
    }
    const key = compileKey(doc);
    try {
      const c = await this.prepare(doc, key);
      const maps = await c.call((w) => w.pixelMaps('test', this.index, pixel));
      // Maps of a graph edited meanwhile are dropped: the edit computes its own.
      if (!this.isCurrent(key)) return;
      this.maps = maps;
    } catch (e) {
      if (this.isCurrent(key)) this.status = (e as Error).message;
    }
  }

  private onClick(e: MouseEvent) {
    const m = this.maps;
    if (!m) return;
    const el = e.currentTarget as HTMLCanvasElement;
    const box = el.getBoundingClientRect();
    const r = Math.floor(((e.clientY - box.top) / box.height) * m.image[0]);
    const c = Math.floor(((e.clientX - box.left) / box.width) * m.image[1]);
    void this.compute([r, c]);
  }

  private draw(canvas: HTMLCanvasElement | undefined, p: Picture) {
    if (!canvas) return;
    canvas.width = p.width;
    canvas.height = p.height;
    canvas
      .getContext('2d')
      ?.putImageData(new ImageData(new Uint8ClampedArray(p.rgba), p.width, p.height), 0, 0);
  }

  override updated(): void {
    const m = this.maps;
    if (!m) return;
    const pics = mapPictures(m, m.gray);
    for (const canvas of this.querySelectorAll<HTMLCanvasElement>('canvas[data-map]')) {
      const p = pics.get(canvas.dataset.map as string);
      if (p) this.draw(canvas, p);
    }
    const base = this.querySelector<HTMLCanvasElement>('canvas[data-testid="maps-image"]');
    const first = pics.values().next().value;
    if (base && first) this.draw(base, first);
  }

  override render() {
    // A volume graph opened while the view is open: its reason, not the 2D graph's maps.
    const refusal = analysisRefusal(this.doc, 'maps');
    const m = refusal ? undefined : this.maps;
    return html`<div class="dialog maps" role="dialog" data-testid="maps-view">
      <h3>Attention and memory maps</h3>
      <p class="note" data-testid="maps-status">${refusal ?? this.status}</p>
      <label
        >Test slice
        <input
          type="number"
          min="0"
          data-testid="maps-slice"
          .value=${String(this.index)}
          @change=${(e: Event) => {
            this.index = Number((e.target as HTMLInputElement).value) || 0;
            void this.compute(this.pixel);
          }}
      /></label>
      ${
        m
          ? html`<p data-testid="maps-pixel">
                pixel ${m.pixel.join(', ')} of slice ${m.index} (${m.units.length} units); click the
                image for another
              </p>
              <canvas
                data-testid="maps-image"
                style="width:256px;height:256px;image-rendering:pixelated;cursor:crosshair"
                @click=${(e: MouseEvent) => this.onClick(e)}
              ></canvas>
              ${m.units.map(
                (u) =>
                  html`<div class="map-unit" data-unit=${u.id}>
                    <div>
                      ${u.id} (${u.type}, grid ${u.grid.join('×')}, window ${u.window}, shift
                      ${u.shift}; window ${u.at.window}, slot ${u.at.slot})
                    </div>
                    ${['attention', 'without-memory', 'difference', 'memory-norm'].map((what) =>
                      (what === 'without-memory' || what === 'difference') &&
                      !u.heads[0]?.withoutMemory
                        ? nothing
                        : what === 'memory-norm' && !u.memoryNorm
                          ? nothing
                          : html`<figure style="display:inline-block;margin:2px">
                              <canvas
                                data-map=${`${u.id}.${what}.png`}
                                style="width:96px;height:96px;image-rendering:pixelated"
                              ></canvas>
                              <figcaption>${what}</figcaption>
                            </figure>`,
                    )}
                  </div>`,
              )}`
          : nothing
      }
      <button data-testid="maps-close" @click=${() => this.dispatchEvent(new CustomEvent('close'))}>
        Close
      </button>
    </div>`;
  }
}

customElements.define('mam-maps-view', MamMapsView);

declare global {
  interface HTMLElementTagNameMap {
    'mam-maps-view': MamMapsView;
  }
}
