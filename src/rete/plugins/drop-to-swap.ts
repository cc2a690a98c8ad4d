/**
 * Drop-to-swap: a palette kind dragged over the canvas marks the node it
 * would swap with; dropped, it swaps onto its SAM/MAM counterpart, is refused
 * (with the reason as a hint) onto any other node, and is added on empty
 * canvas under the pointer. The decision is the document's (dropDecision).
 */
import { dropPosition } from '../../graph/new-node.ts';
import { canSwapTo, dropDecision } from '../../graph/rules.ts';
import type { DocumentSync } from './document-sync.ts';
import { HubChild } from './hub.ts';

export type DropResult = 'added' | 'swapped' | 'refused' | 'outside';

export class DropToSwap extends HubChild {
  private target: string | undefined;

  constructor(private readonly sync: DocumentSync) {
    super('mam-drop-to-swap');
  }

  protected attach(): void {}

  /** The node under a pointer event, if any (the topmost). */
  nodeAt(event: MouseEvent): string | undefined {
    const { area, editor } = this.hub;
    area.area.setPointerFrom(event);
    const { x, y } = area.area.pointer;
    for (const node of [...editor.getNodes()].reverse()) {
      const v = area.nodeViews.get(node.id);
      if (!v) continue;
      const w = v.element.offsetWidth || node.width;
      const h = v.element.offsetHeight || node.height;
      if (x >= v.position.x && x <= v.position.x + w && y >= v.position.y && y <= v.position.y + h)
        return node.id;
    }
    return undefined;
  }

  private setTarget(id: string | undefined) {
    if (id === this.target) return;
    const { area, editor } = this.hub;
    for (const prev of [this.target, id]) {
      const node = prev ? editor.getNode(prev) : undefined;
      if (!node) continue;
      node.dropTarget = prev === id;
      void area.update('node', node.id);
    }
    this.target = id;
  }

  preview(type: string | undefined, event?: MouseEvent): void {
    if (!type || !event) return this.setTarget(undefined);
    const id = this.nodeAt(event);
    const { store, catalogue } = this.sync;
    this.setTarget(id && canSwapTo(store.doc, id, type, catalogue) ? id : undefined);
  }

  drop(type: string, event: MouseEvent): DropResult {
    this.setTarget(undefined);
    const { area } = this.hub;
    const rect = area.container.getBoundingClientRect();
    const inside =
      event.clientX >= rect.left &&
      event.clientX <= rect.right &&
      event.clientY >= rect.top &&
      event.clientY <= rect.bottom;
    if (!inside) return 'outside';
    const d = dropDecision(this.sync.store.doc, type, this.nodeAt(event), this.sync.catalogue);
    if (d.action === 'swap') return this.sync.swap(d.id, type) ? 'swapped' : 'refused';
    if (d.action === 'refuse') {
      this.hub.hint(d.reason, 'error');
      return 'refused';
    }
    area.area.setPointerFrom(event);
    return this.sync.addNode(type, dropPosition(area.area.pointer)) ? 'added' : 'refused';
  }
}
