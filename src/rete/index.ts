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
import { AreaExtensions } from 'rete-area-plugin';
import {
  ClassicFlow,
  ConnectionPlugin,
  getSourceTarget,
  type SocketData,
} from 'rete-connection-plugin';
import { ContextMenuPlugin } from 'rete-context-menu-plugin';
import { MinimapPlugin } from 'rete-minimap-plugin';
import { catalogue as builtinCatalogue } from '../../nodes/index.ts';
import { DocumentStore, type Command } from '../graph/commands.ts';
import { convertToMam, convertToSam, type ConvertScope } from '../graph/convert.ts';
import { newNode } from '../graph/new-node.ts';
import { canConnect } from '../graph/rules.ts';
import type { Analysis } from '../graph/infer.ts';
import type { Catalogue, MemoryLayout } from '../graph/node-kind.ts';
import { presets as builtinPresets } from '../graph/presets.ts';
import { swapNodeKind } from '../graph/swap.ts';
import { GRAPH_FORMAT, GRAPH_VERSION, type GraphDoc, type LinkDoc } from '../graph/types.ts';
import { conversionItems, menuItems, type MenuActions, type MenuItem } from './menu.ts';
import { rubberBand } from './rubber-band.ts';
import { linkKey, MamNode, MamSocket, type Schemes } from './schemes.ts';
import { DocView, type AnyArea } from './sync.ts';
import { elementInsets, fitTransform, type Insets } from './viewport.ts';
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

export interface MamEvents {
  /** After every edit, undo, redo or load: the document and its analysis. */
  change: {
    doc: GraphDoc;
    analysis: Analysis;
    label: string;
    kind: 'do' | 'undo' | 'redo' | 'load';
  };
  /** The selected node ids changed. */
  selection: string[];
  /** The selected link (its key, `from:port->to:port`) changed; undefined when none is. */
  linkSelection: string | undefined;
  /** Something the user should read: a refused link, a swap note, a failed conversion. */
  hint: { message: string; level: 'info' | 'error' };
}

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
  dropKind(type: string, event: MouseEvent): 'added' | 'swapped' | 'refused' | 'outside';
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

/** The view: zoom k, then translation x, y (screen px). */
type Transform = { k: number; x: number; y: number };

/** The minimap's size in px: small, in the corner, never over most of the graph. */
export const MINIMAP = { width: 160, height: 110, inset: 24 } as const;

export const emptyGraph = (title = 'Untitled'): GraphDoc => ({
  format: GRAPH_FORMAT,
  version: GRAPH_VERSION,
  metadata: { title },
  nodes: [],
  links: [],
});

export function installMamStudio(
  editor: NodeEditor<Schemes>,
  area: AnyArea,
  opts: MamStudioOptions = {},
): MamStudio {
  const store = opts.store ?? new DocumentStore(opts.doc ?? emptyGraph());
  const listeners = new Map<keyof MamEvents, Set<(d: never) => void>>();
  const emit = <E extends keyof MamEvents>(event: E, data: MamEvents[E]) => {
    for (const fn of listeners.get(event) ?? []) (fn as (d: MamEvents[E]) => void)(data);
  };
  const hint = (message: string, level: 'info' | 'error' = 'info') =>
    emit('hint', { message, level });

  const catalogue = opts.catalogue ?? builtinCatalogue;
  const getKind = (type: string) => catalogue.get(type);
  const view = new DocView(editor, area, store, () => undefined, catalogue);
  const unsubscribe = store.subscribe((doc, change) =>
    emit('change', { doc, analysis: view.analysis, ...change }),
  );

  // Rendering: our node, link and socket views through the Lit renderer.
  // eslint-disable-next-line @typescript-eslint/no-explicit-any
  const render = new LitPlugin<Schemes, any>();
  if (opts.render !== false) {
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
  }

  // Typed links: the document's rule (canConnect) decides before Rete touches anything. The
  // flow removes the link already feeding the input right after canMakeConnection says yes,
  // so a refusal must happen there: it shows the reason and ends the drag, changing nothing.
  const linkOf = (initial: SocketData, socket: SocketData): LinkDoc | undefined => {
    const ends = getSourceTarget(initial, socket);
    if (!ends) return undefined;
    const [source, target] = ends;
    return {
      from: { node: source.nodeId, port: source.key },
      to: { node: target.nodeId, port: target.key },
    };
  };
  const connection = new ConnectionPlugin<Schemes>();
  if (opts.connections !== false) {
    connection.addPreset(
      () =>
        new ClassicFlow({
          canMakeConnection(initial: SocketData, socket: SocketData) {
            const link = linkOf(initial, socket);
            if (!link) return false; // output to output, or a click on the socket the drag began at
            const verdict = canConnect(store.doc, link, catalogue);
            if (verdict.ok) return true;
            hint(verdict.reason, 'error');
            // The flow keeps a refused drag alive (click-to-connect); end it once its pick returns.
            setTimeout(() => connection.drop(), 0);
            return false;
          },
          makeConnection(initial: SocketData, socket: SocketData) {
            const link = linkOf(initial, socket);
            if (!link || !canConnect(store.doc, link, catalogue).ok) return undefined;
            view.connect(link);
            return true;
          },
        }),
    );
  }

  const presetDocs = opts.presets ?? builtinPresets(catalogue);
  const menuActions: MenuActions = {
    kinds: () => [...catalogue.values()],
    addNode: (type) => void api.addNode(type, [area.area.pointer.x, area.area.pointer.y]),
    openPreset: (name) => void api.loadDoc(structuredClone(presetDocs[name]), `preset ${name}`),
    presetNames: () => Object.keys(presetDocs),
    presetTitle: (name) => presetDocs[name]?.metadata?.title ?? name,
    swap: (id) => void api.swap(id),
    convert: (scope, strategy) => void api.convert(scope, strategy),
    convertToSam: (scope) => void api.convertToSam(scope),
    remove: (ids) => api.removeNodes(ids),
    selected: () => api.getSelected(),
    fit: () => void api.zoomToFit(),
    doc: () => store.doc,
  };
  const contextMenu = new ContextMenuPlugin<Schemes>({
    items: (context) => menuItems(context as 'root' | MamNode, menuActions),
  });

  area.use(render);
  if (opts.connections !== false) area.use(connection);
  if (opts.contextMenu !== false) area.use(contextMenu);
  if (opts.minimap)
    area.use(
      new MinimapPlugin<Schemes>({ boundViewport: true, ratio: MINIMAP.width / MINIMAP.height }),
    );

  // Selection: click, Ctrl+click to add; the inspector follows. The selectable-nodes
  // pipe runs before ours and has finished (un)selecting when ours sees the signal,
  // so the event goes out at once, before the next input event is handled.
  const selector = AreaExtensions.selector();
  const selectable = AreaExtensions.selectableNodes(area, selector, {
    accumulating: AreaExtensions.accumulateOnCtrl(),
  });
  AreaExtensions.simpleNodesOrder(area);
  let lastSelection = '';
  const selectionChanged = () => {
    const ids = api.getSelected();
    const key = ids.join('\u0000');
    if (key !== lastSelection) {
      lastSelection = key;
      emit('selection', ids);
    }
  };
  // A link is selected by a click on it (its view sends mam-link-click); a click
  // on a node or on empty canvas (a press without a drag) unselects it.
  let selectedLink: string | undefined;
  const setLink = async (key: string | undefined) => {
    if (key === selectedLink) return;
    const views: Promise<unknown>[] = [];
    for (const id of [selectedLink, key]) {
      const c = id ? editor.getConnection(id) : undefined;
      if (!c) continue;
      c.selected = id === key;
      views.push(area.update('connection', c.id));
    }
    selectedLink = key && editor.getConnection(key) ? key : undefined;
    emit('linkSelection', selectedLink);
    await Promise.all(views);
  };
  let pressMoves: number | undefined;
  area.addPipe(async (ctx) => {
    if (!ctx || typeof ctx !== 'object' || !('type' in ctx)) return ctx;
    if (ctx.type === 'pointerdown') pressMoves = 0;
    else if (ctx.type === 'pointermove' && pressMoves !== undefined) pressMoves++;
    else if (ctx.type === 'nodepicked') {
      await setLink(undefined);
      selectionChanged();
    } else if (ctx.type === 'pointerup') {
      if (pressMoves !== undefined && pressMoves < 4) await setLink(undefined);
      pressMoves = undefined;
      selectionChanged();
    }
    return ctx;
  });
  editor.addPipe((ctx) => {
    if (ctx.type === 'noderemoved') selectionChanged();
    if (ctx.type === 'connectionremoved' && ctx.data.id === selectedLink) void setLink(undefined);
    return ctx;
  });
  const onLinkClick = (e: Event) =>
    void api.selectLink((e as CustomEvent<{ key: string }>).detail.key);
  area.container.addEventListener('mam-link-click', onLinkClick);
  const stopRubberBand = rubberBand(area, {
    nodes: () => editor.getNodes(),
    select: (ids) => api.select(ids),
  });

  /**
   * The last fit asked for and the view it made. While the view is still that one,
   * nobody has panned or zoomed since, and a change of cover may fit again.
   */
  let lastFit: { ids?: string[]; minZoom: number; view: Transform } | undefined;

  let dropTarget: string | undefined;
  const setDropTarget = (id: string | undefined) => {
    if (id === dropTarget) return;
    for (const prev of [dropTarget, id]) {
      const node = prev ? editor.getNode(prev) : undefined;
      if (!node) continue;
      node.dropTarget = prev === id;
      void area.update('node', node.id);
    }
    dropTarget = id;
  };

  const canSwapTo = (id: string, type: string) => {
    const node = store.doc.nodes.find((n) => n.id === id);
    return !!node && getKind(node.type)?.swapWith === type;
  };

  const api: MamStudio = {
    store,
    getAnalysis: () => view.analysis,
    on(event, fn) {
      let set = listeners.get(event);
      if (!set) listeners.set(event, (set = new Set()));
      set.add(fn as (d: never) => void);
      return () => set.delete(fn as (d: never) => void);
    },
    async loadDoc(doc, label = 'open') {
      store.load(doc, label);
      await view.idle;
      await api.zoomToFit();
    },
    dispatch: (cmds, label) => store.dispatch(cmds, label),
    swap(id, toType) {
      const r = swapNodeKind(store.doc, id, toType, catalogue);
      if ('error' in r) {
        hint(`Cannot swap: ${r.error}`, 'error');
        return false;
      }
      store.dispatch(r.commands, `swap ${id}`);
      hint(r.note);
      return true;
    },
    convert(scope, strategy, layout = opts.memoryLayout ?? 'window') {
      const r = convertToMam(store.doc, { scope, strategy, layout }, catalogue);
      if ('error' in r) {
        hint(`Cannot convert: ${r.error}`, 'error');
        return false;
      }
      store.dispatch(r.commands, `convert to MAM (${strategy})`);
      hint(r.note);
      return true;
    },
    convertToSam(scope) {
      const r = convertToSam(store.doc, scope, catalogue);
      if ('error' in r) {
        hint(`Cannot convert: ${r.error}`, 'error');
        return false;
      }
      store.dispatch(r.commands, 'convert to SAM');
      hint(r.note);
      return true;
    },
    addNode(type, position) {
      const at = position ?? viewCentre();
      const node = newNode(store.doc, type, [Math.round(at[0]), Math.round(at[1])], catalogue);
      if (!node) {
        hint(`Unknown node kind '${type}'.`, 'error');
        return undefined;
      }
      store.dispatch({ type: 'add-nodes', nodes: [node] }, `add ${node.id}`);
      return node.id;
    },
    nodeAt(event) {
      area.area.setPointerFrom(event);
      const { x, y } = area.area.pointer;
      for (const node of [...editor.getNodes()].reverse()) {
        const v = area.nodeViews.get(node.id);
        if (!v) continue;
        const w = v.element.offsetWidth || node.width;
        const h = v.element.offsetHeight || node.height;
        if (
          x >= v.position.x &&
          x <= v.position.x + w &&
          y >= v.position.y &&
          y <= v.position.y + h
        )
          return node.id;
      }
      return undefined;
    },
    previewDrop(type, event) {
      if (!type || !event) return setDropTarget(undefined);
      const id = api.nodeAt(event);
      setDropTarget(id && canSwapTo(id, type) ? id : undefined);
    },
    dropKind(type, event) {
      setDropTarget(undefined);
      const rect = area.container.getBoundingClientRect();
      const inside =
        event.clientX >= rect.left &&
        event.clientX <= rect.right &&
        event.clientY >= rect.top &&
        event.clientY <= rect.bottom;
      if (!inside) return 'outside';
      const target = api.nodeAt(event);
      if (target) {
        if (canSwapTo(target, type)) return api.swap(target, type) ? 'swapped' : 'refused';
        const kind = getKind(type);
        const on = store.doc.nodes.find((n) => n.id === target);
        hint(
          `A ${kind?.title ?? type} cannot replace '${target}' (${getKind(on?.type ?? '')?.title ?? on?.type}); drop it on empty canvas to add it.`,
          'error',
        );
        return 'refused';
      }
      area.area.setPointerFrom(event);
      const { x, y } = area.area.pointer;
      return api.addNode(type, [x - 20, y - 14]) ? 'added' : 'refused';
    },
    async select(ids) {
      await setLink(undefined);
      await selector.unselectAll();
      for (const [i, id] of ids.entries())
        if (editor.getNode(id)) await selectable.select(id, i > 0);
      selectionChanged();
    },
    getSelected: () =>
      editor
        .getNodes()
        .filter((n) => n.selected)
        .map((n) => n.id),
    async selectLink(key) {
      if (key) {
        await selector.unselectAll();
        selectionChanged();
      }
      await setLink(key);
    },
    getSelectedLink: () => selectedLink,
    removeSelected() {
      const key = selectedLink;
      const c = key ? editor.getConnection(key) : undefined;
      if (!c) return api.removeNodes(api.getSelected());
      const link = store.doc.links.find((l) => linkKey(l) === key);
      if (link) store.dispatch({ type: 'disconnect', link }, `delete link ${key}`);
    },
    conversions(id) {
      const node = id ? editor.getNode(id) : undefined;
      return conversionItems(node, menuActions);
    },
    removeNodes(ids) {
      if (!ids.length) return;
      store.dispatch(
        { type: 'remove-nodes', ids },
        ids.length === 1 ? `delete ${ids[0]}` : `delete ${ids.length} nodes`,
      );
    },
    async zoomToFit(ids, minZoom = opts.minZoom ?? 0) {
      await view.idle;
      view.measure();
      const nodes = (ids ?? editor.getNodes().map((n) => n.id))
        .map((id) => editor.getNode(id))
        .filter((n): n is MamNode => !!n);
      if (!nodes.length) return;
      // Into the part of the canvas no overlay covers.
      const insets = api.updateCover();
      const box = AreaExtensions.getBoundingBox(area, nodes);
      const size = { width: area.container.clientWidth, height: area.container.clientHeight };
      let fit = fitTransform(box, size, insets);
      // A node the minimap would hide: fit above the minimap instead.
      if (opts.minimap && underMinimap(nodes, fit, size, insets))
        fit = fitTransform(box, size, {
          ...insets,
          bottom: insets.bottom + MINIMAP.height + MINIMAP.inset,
        });
      if (fit.k >= minZoom) return showFit(fit, { ids, minZoom });
      // Below minZoom: keep it and show the start of the graph.
      const k = minZoom;
      const margin = 40;
      const h = size.height - insets.top - insets.bottom;
      const y =
        box.height * k + 2 * margin <= h
          ? insets.top + h / 2 - (box.top + box.height / 2) * k
          : insets.top + margin - box.top * k;
      await showFit({ k, x: insets.left + margin - box.left * k, y }, { ids, minZoom });
    },
    updateCover() {
      const insets = elementInsets(area.container, opts.overlays?.() ?? []);
      for (const [edge, px] of Object.entries(insets))
        area.container.style.setProperty(`--mam-covered-${edge}`, `${px}px`);
      return insets;
    },
    async refitCover() {
      const fit = lastFit;
      const now = area.area.transform;
      const untouched = fit && fit.view.k === now.k && fit.view.x === now.x && fit.view.y === now.y;
      api.updateCover();
      if (untouched) await api.zoomToFit(fit.ids, fit.minZoom);
    },
    async zoomBy(factor) {
      const { x, y, k } = area.area.transform;
      const r = area.container.getBoundingClientRect();
      const to = Math.min(4, Math.max(0.05, k * factor));
      // Keep the point in the middle of the view where it is.
      await area.area.zoom(to, (x - r.width / 2) * (to / k - 1), (y - r.height / 2) * (to / k - 1));
    },
    async centerOn(id) {
      await view.idle;
      const v = area.nodeViews.get(id);
      const node = editor.getNode(id);
      if (!v || !node) return;
      const { k } = area.area.transform;
      const r = area.container.getBoundingClientRect();
      await area.area.translate(
        r.width / 2 - (v.position.x + node.width / 2) * k,
        r.height / 2 - (v.position.y + node.height / 2) * k,
      );
    },
    whenIdle: () => view.idle,
    destroy() {
      unsubscribe();
      stopRubberBand();
      area.container.removeEventListener('mam-link-click', onLinkClick);
      view.destroy();
    },
  };

  async function showFit(t: Transform, asked: { ids?: string[]; minZoom: number }) {
    await area.area.zoom(t.k, 0, 0);
    await area.area.translate(t.x, t.y);
    lastFit = { ...asked, view: { ...area.area.transform } };
  }

  /** Whether a node would lie under the minimap (in the uncovered corner) at transform `t`. */
  function underMinimap(
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
      const p = area.nodeViews.get(n.id)?.position;
      if (!p) return false;
      const x = t.x + p.x * t.k;
      const y = t.y + p.y * t.k;
      return x < right && x + n.width * t.k > left && y < bottom && y + n.height * t.k > top;
    });
  }

  function viewCentre(): [number, number] {
    const { x, y, k } = area.area.transform;
    const r = area.container.getBoundingClientRect();
    return [(r.width / 2 - x) / k - 110, (r.height / 2 - y) / k - 60];
  }

  return api;
}

/** Renders the context menu with mam-studio's menu element. */
function menuPreset() {
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
