/**
 * The context menu: add a node at the pointer, open a preset, swap, convert
 * to MAM/SAM, delete, fit. Its items are the document actions of the other
 * plugins; the menu is drawn by mam-studio's menu element (menuPreset).
 */
import { html } from 'lit';
import { ContextMenuPlugin } from 'rete-context-menu-plugin';
import { pointPosition } from '../../graph/new-node.ts';
import type { GraphDoc } from '../../graph/types.ts';
import { conversionItems, menuItems, type MenuActions, type MenuItem } from '../menu.ts';
import type { MamNode, Schemes } from '../schemes.ts';
import type { DocumentSync } from './document-sync.ts';
import { HubChild } from './hub.ts';

export interface ContextMenuOptions {
  presets: Record<string, GraphDoc>;
  /** Opens a document (a preset) as the start of a new history. */
  load(doc: GraphDoc, label: string): Promise<void>;
  selected(): string[];
  fit(): Promise<void>;
}

export class MamContextMenu extends HubChild {
  private actions!: MenuActions;
  readonly plugin: ContextMenuPlugin<Schemes>;

  constructor(
    private readonly sync: DocumentSync,
    private readonly opts: ContextMenuOptions,
  ) {
    super('mam-context-menu');
    this.plugin = new ContextMenuPlugin<Schemes>({
      items: (context) => menuItems(context as 'root' | MamNode, this.actions),
    });
  }

  protected attach(): void {
    const { sync, opts } = this;
    const { presets } = opts;
    const view = this.hub.area.area;
    this.actions = {
      kinds: () => [...sync.catalogue.values()],
      addNode: (type) => void sync.addNode(type, pointPosition([view.pointer.x, view.pointer.y])),
      openPreset: (name) => void opts.load(structuredClone(presets[name]), `preset ${name}`),
      presetNames: () => Object.keys(presets),
      presetTitle: (name) => presets[name]?.metadata?.title ?? name,
      swap: (id) => void sync.swap(id),
      convert: (scope, strategy) => void sync.convert(scope, strategy),
      convertToSam: (scope) => void sync.convertToSam(scope),
      remove: (ids) => sync.removeNodes(ids),
      selected: () => opts.selected(),
      fit: () => void opts.fit(),
      doc: () => sync.store.doc,
    };
  }

  /** The conversions that apply to a node (or, without one, to the network), as menu items. */
  conversions(id?: string): MenuItem[] {
    const node = id ? this.hub.editor.getNode(id) : undefined;
    return conversionItems(node, this.actions);
  }
}

/** Renders the context menu with mam-studio's menu element (a Lit renderer preset). */
export function menuPreset() {
  type MenuSignal = { data: { type: string; items?: MenuItem[]; onHide?: () => void } };
  const props = (c: MenuSignal) =>
    c.data.type === 'contextmenu' ? { items: c.data.items, onHide: c.data.onHide, open: [] } : null;
  return {
    update: (c: MenuSignal) => props(c),
    render: (c: MenuSignal) => {
      const p = props(c);
      return p ? html`<mam-menu .items=${p.items} .onHide=${p.onHide}></mam-menu>` : null;
    },
  };
}
