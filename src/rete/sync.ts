/**
 * Keeps the Rete editor a view of the document: after every change the
 * editor is reconciled to the document (nodes, ports, links, positions) and
 * decorated with the analysis (shapes, counts, problems, chains). Edits made
 * on the canvas (moves, links drawn or picked up) become commands on the
 * store; the view never changes the document any other way. The document
 * sync plugin (plugins/document-sync.ts) hands it the area's and editor's
 * signals.
 */
import type { NodeEditor } from 'rete';
import type { AreaPlugin } from 'rete-area-plugin';
import { analyzeGraph, type Analysis } from '../graph/infer.ts';
import type { Command, DocumentStore } from '../graph/commands.ts';
import type { Catalogue } from '../graph/node-kind.ts';
import type { GraphDoc, LinkDoc, NodeDoc } from '../graph/types.ts';
import {
  MamConnection,
  MamNode,
  linkKey,
  type ChainTag,
  type Schemes,
  type SocketName,
} from './schemes.ts';

// eslint-disable-next-line @typescript-eslint/no-explicit-any
export type AnyArea = AreaPlugin<Schemes, any>;

type Ports = { inputs: string[]; outputs: string[] };

/** Ports a node shows: its kind's, or for an unknown kind, those its links name. */
function portsFor(doc: GraphDoc, node: NodeDoc, catalogue: Catalogue): Ports {
  const kind = catalogue.get(node.type);
  if (kind)
    return { inputs: kind.inputs.map((p) => p.name), outputs: kind.outputs.map((p) => p.name) };
  const inputs = new Set<string>();
  const outputs = new Set<string>();
  for (const l of doc.links) {
    if (l.to.node === node.id) inputs.add(l.to.port);
    if (l.from.node === node.id) outputs.add(l.from.port);
  }
  return { inputs: [...inputs], outputs: [...outputs] };
}

export class DocView {
  analysis: Analysis;
  hoveredChain: number | undefined;
  /** Resolves when the editor shows the latest document. */
  idle: Promise<void> = Promise.resolve();

  private syncing = 0;
  private moved = new Set<string>();
  private pendingDisconnects: LinkDoc[] = [];
  /** While a link is being dragged, links it picked up wait for where it is dropped. */
  private held = false;
  private unsubscribe: () => void;

  constructor(
    private readonly editor: NodeEditor<Schemes>,
    private readonly area: AnyArea,
    private readonly store: DocumentStore,
    private readonly catalogue: Catalogue,
  ) {
    this.analysis = analyzeGraph(store.doc, catalogue);
    this.unsubscribe = store.subscribe((doc) => {
      this.analysis = analyzeGraph(doc, this.catalogue);
      this.schedule();
    });
    area.container.addEventListener('mam-chain-hover', this.onChainHover as EventListener);
    this.schedule();
  }

  /** The area's and the editor's signals: moves become commands, so do links removed on the canvas. */
  handle(ctx: unknown): void {
    if (!ctx || typeof ctx !== 'object' || !('type' in ctx)) return;
    const c = ctx as { type: string; data: unknown };
    if (c.type === 'nodetranslated' && !this.syncing) this.moved.add((c.data as { id: string }).id);
    else if (c.type === 'nodedragged') this.commitMoves();
    else if (c.type === 'connectionremoved' && !this.syncing)
      this.queueDisconnect(c.data as MamConnection);
  }

  /** A link drag began: links it removes wait until it ends (they may be folded into its link). */
  holdDisconnects(): void {
    this.held = true;
  }

  /** The link drag ended: what it removed and did not fold into a new link is disconnected. */
  releaseDisconnects(): void {
    this.held = false;
    this.flushDisconnects();
  }

  get syncingNow(): boolean {
    return this.syncing > 0;
  }

  destroy(): void {
    this.unsubscribe();
    this.area.container.removeEventListener('mam-chain-hover', this.onChainHover as EventListener);
  }

  /** Dispatches a link drawn on the canvas, folding in links it replaced. */
  connect(link: LinkDoc): void {
    const doc = this.store.doc;
    const pending = this.takePending();
    if (doc.links.some((l) => linkKey(l) === linkKey(link)) && !pending.length) return;
    const cmds: Command[] = pending.map((l) => ({ type: 'disconnect', link: l }));
    cmds.push({ type: 'connect', link });
    this.store.dispatch(cmds, `connect ${link.from.node} → ${link.to.node}`);
  }

  private takePending(): LinkDoc[] {
    const doc = this.store.doc;
    const keys = new Set(doc.links.map(linkKey));
    const list = this.pendingDisconnects.filter((l) => keys.has(linkKey(l)));
    this.pendingDisconnects = [];
    return list;
  }

  private queueDisconnect(c: MamConnection) {
    this.pendingDisconnects.push({
      from: { node: c.source, port: String(c.sourceOutput) },
      to: { node: c.target, port: String(c.targetInput) },
    });
    if (!this.held) this.flushDisconnects();
  }

  private flushDisconnects() {
    const list = this.takePending();
    if (list.length)
      this.store.dispatch(
        list.map((link) => ({ type: 'disconnect', link })),
        'disconnect',
      );
  }

  private commitMoves() {
    if (!this.moved.size) return;
    const moves: { id: string; position: [number, number] }[] = [];
    const byId = new Map(this.store.doc.nodes.map((n) => [n.id, n]));
    for (const id of this.moved) {
      const view = this.area.nodeViews.get(id);
      const node = byId.get(id);
      if (!view || !node) continue;
      const position: [number, number] = [Math.round(view.position.x), Math.round(view.position.y)];
      if (position[0] !== node.position[0] || position[1] !== node.position[1])
        moves.push({ id, position });
    }
    this.moved.clear();
    if (moves.length) this.store.dispatch({ type: 'move-nodes', moves }, 'move');
  }

  private schedule() {
    this.idle = this.idle
      .then(() => this.reconcile())
      .catch((e) => console.error('mam-studio: view sync failed', e));
  }

  private async reconcile(): Promise<void> {
    const doc = this.store.doc;
    const analysis = this.analysis;
    this.syncing++;
    try {
      const want = new Map<string, NodeDoc>();
      for (const n of doc.nodes) if (!want.has(n.id)) want.set(n.id, n);
      const ports = new Map<string, Ports>();
      for (const [id, n] of want) ports.set(id, portsFor(doc, n, this.catalogue));
      const signature = (n: NodeDoc) =>
        MamNode.signature(n, this.catalogue.get(n.type), ports.get(n.id) as Ports);

      const rebuild = new Set<string>();
      for (const node of this.editor.getNodes()) {
        const d = want.get(node.id);
        if (!d || node.signature !== signature(d)) rebuild.add(node.id);
      }
      // Links the view can show: both ends present with the named ports; one per key.
      const wantLinks = new Map<string, { link: LinkDoc; index: number }>();
      doc.links.forEach((link, index) => {
        const a = ports.get(link.from.node);
        const b = ports.get(link.to.node);
        if (!a?.outputs.includes(link.from.port) || !b?.inputs.includes(link.to.port)) return;
        const key = linkKey(link);
        if (!wantLinks.has(key)) wantLinks.set(key, { link, index });
      });

      for (const c of this.editor.getConnections()) {
        if (!wantLinks.has(c.id) || rebuild.has(c.source) || rebuild.has(c.target)) {
          await this.editor.removeConnection(c.id);
        }
      }
      for (const id of rebuild) await this.editor.removeNode(id);

      for (const [id, d] of want) {
        let node = this.editor.getNode(id);
        if (!node) {
          node = new MamNode(d, this.catalogue.get(d.type), ports.get(id) as Ports);
          node.signature = signature(d);
          node.doc = d;
          node.info = analysis.nodes.get(id);
          await this.editor.addNode(node);
          await this.area.translate(id, { x: d.position[0], y: d.position[1] });
          continue;
        }
        node.doc = d;
        const view = this.area.nodeViews.get(id);
        if (view && (view.position.x !== d.position[0] || view.position.y !== d.position[1])) {
          await this.area.translate(id, { x: d.position[0], y: d.position[1] });
        }
      }
      for (const [key, { link }] of wantLinks) {
        if (this.editor.getConnection(key)) continue;
        const a = this.editor.getNode(link.from.node);
        const b = this.editor.getNode(link.to.node);
        if (a && b) await this.editor.addConnection(new MamConnection(a, link, b));
      }
      await this.decorate(doc, analysis, wantLinks);
    } finally {
      this.syncing--;
    }
  }

  private chainTags(analysis: Analysis) {
    const units = new Map<string, ChainTag>();
    const links = new Map<number, ChainTag>();
    analysis.chains.forEach((chain, index) => {
      const tag: ChainTag = { index, strategy: chain.strategy };
      for (const id of [...chain.units, ...chain.resamplers]) units.set(id, tag);
      for (const l of chain.links) links.set(l, tag);
    });
    return { units, links };
  }

  private async decorate(
    doc: GraphDoc,
    analysis: Analysis,
    wantLinks: Map<string, { link: LinkDoc; index: number }>,
  ) {
    const tags = this.chainTags(analysis);
    const updates: Promise<unknown>[] = [];
    for (const node of this.editor.getNodes()) {
      node.info = analysis.nodes.get(node.id);
      node.chain = tags.units.get(node.id);
      node.highlighted = node.chain !== undefined && node.chain.index === this.hoveredChain;
      updates.push(this.area.update('node', node.id));
    }
    for (const c of this.editor.getConnections()) {
      const entry = wantLinks.get(c.id);
      if (!entry) continue;
      const source = this.editor.getNode(c.source);
      const out = source?.outputs[String(c.sourceOutput)];
      c.socket = ((out?.socket as { kind?: SocketName } | undefined)?.kind ??
        'unknown') as SocketName;
      c.problems = (analysis.linkIssues.get(entry.index) ?? []).map((i) => i.message);
      c.chain = tags.links.get(entry.index);
      c.highlighted = c.chain !== undefined && c.chain.index === this.hoveredChain;
      updates.push(this.area.update('connection', c.id));
    }
    await Promise.all(updates);
    void doc;
    if (typeof requestAnimationFrame === 'function') requestAnimationFrame(() => this.measure());
  }

  /** Node heights for fitting the view and the minimap (they depend on content). */
  measure(): void {
    for (const node of this.editor.getNodes()) {
      const el = this.area.nodeViews.get(node.id)?.element;
      const h = el?.offsetHeight;
      if (h) node.height = h;
    }
  }

  private onChainHover = (e: CustomEvent<{ index: number | undefined }>) => {
    const index = e.detail.index;
    if (index === this.hoveredChain) return;
    this.hoveredChain = index;
    for (const node of this.editor.getNodes()) {
      const on = node.chain !== undefined && node.chain.index === index;
      if (on !== node.highlighted) {
        node.highlighted = on;
        void this.area.update('node', node.id);
      }
    }
    for (const c of this.editor.getConnections()) {
      const on = c.chain !== undefined && c.chain.index === index;
      if (on !== c.highlighted) {
        c.highlighted = on;
        void this.area.update('connection', c.id);
      }
    }
  };
}
