/**
 * Viewport and fit: fitting the graph into the part of the canvas the host's
 * overlays leave uncovered (and clear of the minimap), zooming about the
 * middle, centring on a node; a change of cover fits again only while the
 * view is still the last fit (nobody panned or zoomed since).
 */
import { AreaExtensions } from 'rete-area-plugin';
import { centrePosition } from '../../graph/new-node.ts';
import type { MamNode } from '../schemes.ts';
import { elementInsets, fitTransform, type Insets } from '../viewport.ts';
import type { DocumentSync } from './document-sync.ts';
import { HubChild } from './hub.ts';

/** The view: zoom k, then translation x, y (screen px). */
type Transform = { k: number; x: number; y: number };

/** The minimap's size in px: small, in the corner, never over most of the graph. */
export const MINIMAP = { width: 160, height: 110, inset: 24 } as const;

export interface ViewportOptions {
  /** Smallest zoom that fitting goes to (0: fit everything). */
  minZoom: number;
  /** Whether the minimap is shown (fitting keeps nodes from under it). */
  minimap: boolean;
  /** The host's elements that may lie over the canvas's edges. */
  overlays?: () => Element[];
}

export class ViewportFit extends HubChild {
  /**
   * The last fit asked for and the view it made. While the view is still that one,
   * nobody has panned or zoomed since, and a change of cover may fit again.
   */
  private lastFit: { ids?: string[]; minZoom: number; view: Transform } | undefined;

  constructor(
    private readonly sync: DocumentSync,
    private readonly opts: ViewportOptions,
  ) {
    super('mam-viewport');
  }

  protected attach(): void {}

  private get area() {
    return this.hub.area;
  }

  async zoomToFit(ids?: string[], minZoom = this.opts.minZoom): Promise<void> {
    const { area, editor } = this.hub;
    await this.sync.view.idle;
    this.sync.view.measure();
    const nodes = (ids ?? editor.getNodes().map((n) => n.id))
      .map((id) => editor.getNode(id))
      .filter((n): n is MamNode => !!n);
    if (!nodes.length) return;
    // Into the part of the canvas no overlay covers.
    const insets = this.updateCover();
    const box = AreaExtensions.getBoundingBox(area, nodes);
    const size = { width: area.container.clientWidth, height: area.container.clientHeight };
    let fit = fitTransform(box, size, insets);
    // A node the minimap would hide: fit above the minimap instead.
    if (this.opts.minimap && this.underMinimap(nodes, fit, size, insets))
      fit = fitTransform(box, size, {
        ...insets,
        bottom: insets.bottom + MINIMAP.height + MINIMAP.inset,
      });
    if (fit.k >= minZoom) return this.showFit(fit, { ids, minZoom });
    // Below minZoom: keep it and show the start of the graph.
    const k = minZoom;
    const margin = 40;
    const h = size.height - insets.top - insets.bottom;
    const y =
      box.height * k + 2 * margin <= h
        ? insets.top + h / 2 - (box.top + box.height / 2) * k
        : insets.top + margin - box.top * k;
    await this.showFit({ k, x: insets.left + margin - box.left * k, y }, { ids, minZoom });
  }

  updateCover(): Insets {
    const container = this.area.container;
    const insets = elementInsets(container, this.opts.overlays?.() ?? []);
    for (const [edge, px] of Object.entries(insets))
      container.style.setProperty(`--mam-covered-${edge}`, `${px}px`);
    return insets;
  }

  async refitCover(): Promise<void> {
    const fit = this.lastFit;
    const now = this.area.area.transform;
    const untouched = fit && fit.view.k === now.k && fit.view.x === now.x && fit.view.y === now.y;
    this.updateCover();
    if (untouched) await this.zoomToFit(fit.ids, fit.minZoom);
  }

  async zoomBy(factor: number): Promise<void> {
    const { x, y, k } = this.area.area.transform;
    const r = this.area.container.getBoundingClientRect();
    const to = Math.min(4, Math.max(0.05, k * factor));
    // Keep the point in the middle of the view where it is.
    await this.area.area.zoom(
      to,
      (x - r.width / 2) * (to / k - 1),
      (y - r.height / 2) * (to / k - 1),
    );
  }

  async centerOn(id: string): Promise<void> {
    const { area, editor } = this.hub;
    await this.sync.view.idle;
    const v = area.nodeViews.get(id);
    const node = editor.getNode(id);
    if (!v || !node) return;
    const { k } = area.area.transform;
    const r = area.container.getBoundingClientRect();
    await area.area.translate(
      r.width / 2 - (v.position.x + node.width / 2) * k,
      r.height / 2 - (v.position.y + node.height / 2) * k,
    );
  }

  /** Where a node added without a pointer goes: the middle of the view. */
  centre(): [number, number] {
    const r = this.area.container.getBoundingClientRect();
    return centrePosition(this.area.area.transform, r);
  }

  private async showFit(t: Transform, asked: { ids?: string[]; minZoom: number }) {
    await this.area.area.zoom(t.k, 0, 0);
    await this.area.area.translate(t.x, t.y);
    this.lastFit = { ...asked, view: { ...this.area.area.transform } };
  }

  /** Whether a node would lie under the minimap (in the uncovered corner) at transform `t`. */
  private underMinimap(
    nodes: MamNode[],
    t: Transform,
    size: { width: number; height: number },
    insets: Insets,
  ): boolean {
    const right = size.width - insets.right - MINIMAP.inset;
    const bottom = size.height - insets.bottom - MINIMAP.inset;
    const left = right - MINIMAP.width;
    const top = bottom - MINIMAP.height;
    return nodes.some((n) => {
      const p = this.area.nodeViews.get(n.id)?.position;
      if (!p) return false;
      const x = t.x + p.x * t.k;
      const y = t.y + p.y * t.k;
      return x < right && x + n.width * t.k > left && y < bottom && y + n.height * t.k > top;
    });
  }
}
