/**
 * mam-studio as a Rete v2 plugin. `installMamStudio(editor, area)` makes a
 * host's NodeEditor/AreaPlugin a view of a mam-studio graph document: node
 * classes and typed sockets for every node kind, connection rules (a link
 * between different socket kinds is refused with a hint), drop-from-palette
 * and swap-in-place, a context menu with presets and MAM conversions, and
 * the document with its inference results as events.
 *
 *     const editor = new NodeEditor<Schemes>();
 *     const area = new AreaPlugin<Schemes, any>(container);
 *     editor.use(area);
 *     const mam = installMamStudio(editor, area, { doc });
 *     mam.on('change', ({ doc, analysis }) => …);
 */
import { LitPlugin, Presets as LitPresets } from '@retejs/lit-plugin';
import { html } from 'lit';
import type { NodeEditor } from 'rete';
import { MinimapPlugin } from 'rete-minimap-plugin';
import { catalogue as builtinCatalogue } from '../../nodes/index.ts';
import { DocumentStore, type Command } from '../graph/commands.ts';
import type { ConvertScope } from '../graph/convert.ts';
import type { Analysis } from '../graph/infer.ts';
import type { Catalogue, MemoryLayout } from '../graph/node-kind.ts';
import { presets as builtinPresets } from '../graph/presets.ts';
import { GRAPH_FORMAT, GRAPH_VERSION, type GraphDoc } from '../graph/types.ts';
import type { MenuItem } from './menu.ts';
import { MamContextMenu, menuPreset } from './plugins/context-menu.ts';
import { DocumentSync } from './plugins/document-sync.ts';
import { DropToSwap, type DropResult } from './plugins/drop-to-swap.ts';
import { MamHub, type MamEvents } from './plugins/hub.ts';
import { Selection } from './plugins/selection.ts';
import { TypedLinks } from './plugins/typed-links.ts';
import { MINIMAP, ViewportFit } from './plugins/viewport-fit.ts';
import { linkKey, type MamSocket, type Schemes } from './schemes.ts';
import type { AnyArea } from './sync.ts';
import type { Insets } from './viewport.ts';
import './view/connection.ts';
import './view/menu.ts';
import './view/node.ts';
import './view/socket.ts';

export { MamConnection, MamNode, MamSocket, sockets, linkKey, type Schemes } from './schemes.ts';
export { formatCount, shortMessage } from './format.ts';
export { freshId, newNode } from '../graph/new-node.ts';
export { CATEGORY_COLORS, headerColor, keyParams, shortTitle } from './view/node.ts';
export { SOCKET_COLORS } from './view/socket.ts';
export { MamMenuElement } from './view/menu.ts';
export { coveredInsets, type Insets } from './viewport.ts';
export type { MenuItem } from './menu.ts';
export { MamHub, type MamEvents, type MamSignal } from './plugins/hub.ts';
export { MINIMAP } from './plugins/viewport-fit.ts';

export interface MamStudioOptions {
  /**
   * The node kinds the editor knows, by type id (default: the built-in ones).
   * A host adds its own kinds here; shapes, ports, links and the menu follow it.
   */
  catalogue?: Catalogue;
  /** The document to show (default: an empty graph). Ignored when `store` is given. */
  doc?: GraphDoc;
  /** Share a store with the host (its undo history, its subscribers). */
  store?: DocumentStore;
  /** Install the Lit renderer with mam-studio's node, link and socket views (default true). */
  render?: boolean;
  /** Install the connection plugin with the typed-link rules (default true). */
  connections?: boolean;
  /** Install the context menu: add node, presets, swap, convert (default true). */
  contextMenu?: boolean;
  /** Install the minimap (default false). */
  minimap?: boolean;
  /** Presets for the menu, by name (default: the built-in presets). */
  presets?: Record<string, GraphDoc>;
  /** Smallest zoom that fitting the view goes to (default 0: fit everything). */
  minZoom?: number;
  /**
   * The host's elements that may lie over the canvas's edges (a drawer, a panel):
   * fitting the view uses the part they leave uncovered, and the minimap sits in
   * its bottom-right corner. Closed (zero-size) elements cover nothing.
   */
  overlays?: () => Element[];
  /** Memory layout for conversions (default 'window', the paper's). */
  memoryLayout?: MemoryLayout;
}

export interface MamStudio {
  store: DocumentStore;
  /** The node kinds this view knows (MamStudioOptions.catalogue, or the built-in ones). */
  readonly catalogue: Catalogue;
  getAnalysis(): Analysis;
  on<E extends keyof MamEvents>(event: E, fn: (data: MamEvents[E]) => void): () => void;
  /** Open a document (history starts afresh) and fit the view to it. */
  loadDoc(doc: GraphDoc, label?: string): Promise<void>;
  /** Apply commands as one undo step. */
  dispatch(cmds: Command | Command[], label?: string): void;
  /** Swap a SAM block for its MAM counterpart or back, in place; one undo step. */
  swap(id: string, toType?: string): boolean;
  convert(scope: ConvertScope, strategy: 'ISTS' | 'STS', layout?: MemoryLayout): boolean;
  convertToSam(scope: ConvertScope): boolean;
  /** Add a node of a kind at a canvas position (default: the view's centre); returns its id. */
  addNode(type: string, position?: [number, number]): string | undefined;
  /**
   * A palette item dropped at a pointer event: onto a node it can swap with,
   * it swaps; elsewhere on the canvas it adds a node there.
   */
  dropKind(type: string, event: MouseEvent): DropResult;
  /** The node under a pointer event, if any. */
  nodeAt(event: MouseEvent): string | undefined;
  /** Mark the node a dragged kind would swap with (or none). */
  previewDrop(type: string | undefined, event?: MouseEvent): void;
  select(ids: string[]): Promise<void>;
  getSelected(): string[];
  /** Select one link by its key (unselecting the nodes), or none. */
  selectLink(key: string | undefined): Promise<void>;
  getSelectedLink(): string | undefined;
  removeNodes(ids: string[]): void;
  /** Delete the selected link, else the selected nodes; one undo step. */
  removeSelected(): void;
  /** The conversions that apply to a node (or, without one, to the network), as menu items. */
  conversions(id?: string): MenuItem[];
  /**
   * Fit nodes (default: all) in view. Below `minZoom` the text would be
   * unreadable, so the view keeps that zoom and shows the start of the graph.
   */
  zoomToFit(ids?: string[], minZoom?: number): Promise<void>;
  /**
   * Measures what the host's overlays cover of the canvas (MamStudioOptions.overlays)
   * and moves the minimap to the uncovered corner; call it when an overlay resizes
   * (refitCover when one opens or closes). Fitting calls it too.
   */
  updateCover(): Insets;
  /**
   * Call when an overlay opens or closes: measures the cover (updateCover) and, when
   * the view still shows the last fit (nobody panned or zoomed since), fits again into
   * the part now uncovered. A view the user chose stays as it is.
   */
  refitCover(): Promise<void>;
  /** Zoom by a factor about the middle of the view. */
  zoomBy(factor: number): Promise<void>;
  /** Pan (keeping the zoom) so a node sits in the middle of the view. */
  centerOn(id: string): Promise<void>;
  /** Resolves when the canvas shows the latest document. */
  whenIdle(): Promise<void>;
  destroy(): void;
}

export const emptyGraph = (title = 'Untitled'): GraphDoc => ({
  format: GRAPH_FORMAT,
  version: GRAPH_VERSION,
  metadata: { title },
  nodes: [],
  links: [],
});

/**
 * Installs mam-studio on a host's editor and area as Rete plugins under one
 * hub scope (plugins/hub.ts), which talk through its signals: document sync,
 * typed links, selection, viewport/fit, drop-to-swap and the context menu.
 * The handle is a façade over them.
 */
export function installMamStudio(
  editor: NodeEditor<Schemes>,
  area: AnyArea,
  opts: MamStudioOptions = {},
): MamStudio {
  const store = opts.store ?? new DocumentStore(opts.doc ?? emptyGraph());
  const catalogue = opts.catalogue ?? builtinCatalogue;
  const hub = new MamHub();
  const sync = new DocumentSync(store, catalogue, opts.memoryLayout ?? 'window');
  const links = new TypedLinks(sync);
  const selection = new Selection();
  const viewport = new ViewportFit(sync, {
    minZoom: opts.minZoom ?? 0,
    minimap: opts.minimap === true,
    overlays: opts.overlays,
  });
  const drops = new DropToSwap(sync);
  const menu = new MamContextMenu(sync, {
    presets: opts.presets ?? builtinPresets(catalogue),
    load: (doc, label) => api.loadDoc(doc, label),
    selected: () => selection.selected(),
    fit: () => api.zoomToFit(),
  });

  // The order of the area's pipes matters: the renderer first, then the hub (document
  // sync), the connection plugin, the menu and the minimap, and selection last.
  area.use(lit(opts));
  area.use(hub);
  hub.use(sync);
  if (opts.connections !== false) hub.use(links);
  hub.use(menu);
  if (opts.contextMenu !== false) area.use(menu.plugin);
  if (opts.minimap)
    area.use(
      new MinimapPlugin<Schemes>({ boundViewport: true, ratio: MINIMAP.width / MINIMAP.height }),
    );
  hub.use(viewport);
  hub.use(drops);
  hub.use(selection);

  const api: MamStudio = {
    store,
    catalogue,
    getAnalysis: () => sync.view.analysis,
    on: (event, fn) => hub.on(event, fn),
    async loadDoc(doc, label = 'open') {
      store.load(doc, label);
      await sync.view.idle;
      await viewport.zoomToFit();
    },
    dispatch: (cmds, label) => sync.dispatch(cmds, label),
    swap: (id, toType) => sync.swap(id, toType),
    convert: (scope, strategy, layout) => sync.convert(scope, strategy, layout),
    convertToSam: (scope) => sync.convertToSam(scope),
    addNode: (type, position) => sync.addNode(type, position ?? viewport.centre()),
    nodeAt: (event) => drops.nodeAt(event),
    previewDrop: (type, event) => drops.preview(type, event),
    dropKind: (type, event) => drops.drop(type, event),
    select: (ids) => selection.select(ids),
    getSelected: () => selection.selected(),
    selectLink: (key) => selection.selectLink(key),
    getSelectedLink: () => selection.selectedLinkKey(),
    removeSelected() {
      const key = selection.selectedLinkKey();
      if (!key || !editor.getConnection(key)) return sync.removeNodes(selection.selected());
      const link = store.doc.links.find((l) => linkKey(l) === key);
      if (link) store.dispatch({ type: 'disconnect', link }, `delete link ${key}`);
    },
    conversions: (id) => menu.conversions(id),
    removeNodes: (ids) => sync.removeNodes(ids),
    zoomToFit: (ids, minZoom) => viewport.zoomToFit(ids, minZoom),
    updateCover: () => viewport.updateCover(),
    refitCover: () => viewport.refitCover(),
    zoomBy: (factor) => viewport.zoomBy(factor),
    centerOn: (id) => viewport.centerOn(id),
    whenIdle: () => sync.view.idle,
    destroy() {
      selection.destroy();
      sync.destroy();
    },
  };
  return api;
}

/** The Lit renderer with mam-studio's node, link, socket and menu views. */
function lit(opts: MamStudioOptions) {
  // eslint-disable-next-line @typescript-eslint/no-explicit-any
  const render = new LitPlugin<Schemes, any>();
  if (opts.render === false) return render;
  render.addPreset(
    LitPresets.classic.setup({
      customize: {
        node:
          () =>
          ({ emit }) =>
            html`<mam-node .emit=${emit}></mam-node>`,
        connection:
          (data) =>
          ({ path, start, end }) =>
            html`<mam-link
              .data=${data.payload}
              .path=${path}
              .start=${start}
              .end=${end}
            ></mam-link>`,
        socket: (data) => () =>
          html`<mam-socket .kind=${(data.payload as MamSocket).kind}></mam-socket>`,
      },
    }),
  );
  if (opts.contextMenu !== false) render.addPreset(menuPreset());
  if (opts.minimap) render.addPreset(LitPresets.minimap.setup({ size: MINIMAP.height }));
  return render;
}
