/**
 * Selection: click, Ctrl+click to add, Shift+drag for a box; a link is
 * selected by a click on it (its view sends mam-link-click), and a click on
 * a node or on empty canvas (a press without a drag) unselects it. Changes
 * go out as `mam-selection` and `mam-link-selection` signals.
 *
 * The area's selectable-nodes pipe is installed here, before this plugin's
 * own area pipe, so it has finished (un)selecting when ours sees a signal:
 * the selection goes out with that signal, before the next input event.
 */
import { AreaExtensions } from 'rete-area-plugin';
import { rubberBand } from '../rubber-band.ts';
import { HubChild, type HubChildParents, type MamHub } from './hub.ts';

export class Selection extends HubChild {
  private selector = AreaExtensions.selector();
  private selectable: ReturnType<typeof AreaExtensions.selectableNodes> | undefined;
  private lastSelection = '';
  private selectedLink: string | undefined;
  private pressMoves: number | undefined;
  private stop: (() => void)[] = [];

  constructor() {
    super('mam-selection');
  }

  protected attach(hub: MamHub): void {
    const { area, editor } = hub;
    this.selectable = AreaExtensions.selectableNodes(area, this.selector, {
      accumulating: AreaExtensions.accumulateOnCtrl(),
    });
    AreaExtensions.simpleNodesOrder(area);
    area.addPipe(async (ctx) => {
      if (!ctx || typeof ctx !== 'object' || !('type' in ctx)) return ctx;
      if (ctx.type === 'pointerdown') this.pressMoves = 0;
      else if (ctx.type === 'pointermove' && this.pressMoves !== undefined) this.pressMoves++;
      else if (ctx.type === 'nodepicked') {
        await this.setLink(undefined);
        this.changed();
      } else if (ctx.type === 'pointerup') {
        if (this.pressMoves !== undefined && this.pressMoves < 4) await this.setLink(undefined);
        this.pressMoves = undefined;
        this.changed();
      }
      return ctx;
    });
    const onLinkClick = (e: Event) =>
      void this.selectLink((e as CustomEvent<{ key: string }>).detail.key);
    area.container.addEventListener('mam-link-click', onLinkClick);
    this.stop = [
      () => area.container.removeEventListener('mam-link-click', onLinkClick),
      rubberBand(area, { nodes: () => editor.getNodes(), select: (ids) => this.select(ids) }),
    ];
  }

  protected override onSignal(ctx: HubChildParents[number]): void {
    if (ctx.type === 'noderemoved') this.changed();
    if (ctx.type === 'connectionremoved' && ctx.data.id === this.selectedLink)
      void this.setLink(undefined);
  }

  /** Sends the selection when it differs from the last one sent. */
  private changed() {
    const ids = this.selected();
    const key = ids.join('\u0000');
    if (key === this.lastSelection) return;
    this.lastSelection = key;
    this.hub.send('selection', ids);
  }

  private async setLink(key: string | undefined) {
    if (key === this.selectedLink) return;
    const { area, editor } = this.hub;
    const views: Promise<unknown>[] = [];
    for (const id of [this.selectedLink, key]) {
      const c = id ? editor.getConnection(id) : undefined;
      if (!c) continue;
      c.selected = id === key;
      views.push(area.update('connection', c.id));
    }
    this.selectedLink = key && editor.getConnection(key) ? key : undefined;
    this.hub.send('linkSelection', this.selectedLink);
    await Promise.all(views);
  }

  selected(): string[] {
    return this.hub.editor
      .getNodes()
      .filter((n) => n.selected)
      .map((n) => n.id);
  }

  async select(ids: string[]): Promise<void> {
    await this.setLink(undefined);
    await this.selector.unselectAll();
    for (const [i, id] of ids.entries())
      if (this.hub.editor.getNode(id)) await this.selectable?.select(id, i > 0);
    this.changed();
  }

  selectedLinkKey(): string | undefined {
    return this.selectedLink;
  }

  async selectLink(key: string | undefined): Promise<void> {
    if (key) {
      await this.selector.unselectAll();
      this.changed();
    }
    await this.setLink(key);
  }

  destroy(): void {
    for (const off of this.stop) off();
  }
}
