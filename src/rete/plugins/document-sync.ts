/**
 * Document sync: the canvas is a view of the document store. Every change
 * of the store goes out as a `mam-change` signal (with the analysis) and is
 * drawn; moves and links removed on the canvas come back as commands. The
 * document actions (swap, convert, add, remove) are commands on the same
 * store, and say what they did, or why not, as `mam-hint` signals.
 */
import type { Command, DocumentStore } from '../../graph/commands.ts';
import { convertToMam, convertToSam, type ConvertScope } from '../../graph/convert.ts';
import type { Catalogue, MemoryLayout } from '../../graph/node-kind.ts';
import { newNode } from '../../graph/new-node.ts';
import { swapNodeKind } from '../../graph/swap.ts';
import { DocView } from '../sync.ts';
import { HubChild, type HubChildParents, type MamHub } from './hub.ts';

export class DocumentSync extends HubChild {
  view!: DocView;
  private unsubscribe: (() => void) | undefined;

  constructor(
    readonly store: DocumentStore,
    readonly catalogue: Catalogue,
    private readonly memoryLayout: MemoryLayout,
  ) {
    super('mam-document-sync');
  }

  protected attach(hub: MamHub): void {
    this.view = new DocView(hub.editor, hub.area, this.store, this.catalogue);
    this.unsubscribe = this.store.subscribe((doc, change) =>
      hub.send('change', { doc, analysis: this.view.analysis, ...change }),
    );
  }

  protected override onSignal(ctx: HubChildParents[number]): void {
    this.view.handle(ctx);
  }

  dispatch(cmds: Command | Command[], label?: string): void {
    this.store.dispatch(cmds, label);
  }

  /** A refused edit says why and changes nothing; a done one says what it did. */
  private apply(
    r: { commands: Command[]; note: string } | { error: string },
    refused: string,
    label: string,
  ): boolean {
    if ('error' in r) {
      this.hub.hint(`${refused}: ${r.error}`, 'error');
      return false;
    }
    this.store.dispatch(r.commands, label);
    this.hub.hint(r.note);
    return true;
  }

  swap(id: string, toType?: string): boolean {
    const r = swapNodeKind(this.store.doc, id, toType, this.catalogue);
    return this.apply(r, 'Cannot swap', `swap ${id}`);
  }

  convert(scope: ConvertScope, strategy: 'ISTS' | 'STS', layout = this.memoryLayout): boolean {
    const r = convertToMam(this.store.doc, { scope, strategy, layout }, this.catalogue);
    return this.apply(r, 'Cannot convert', `convert to MAM (${strategy})`);
  }

  convertToSam(scope: ConvertScope): boolean {
    const r = convertToSam(this.store.doc, scope, this.catalogue);
    return this.apply(r, 'Cannot convert', 'convert to SAM');
  }

  /** Adds a node of a kind at a canvas position (whole units); its id, or none for an unknown kind. */
  addNode(type: string, at: [number, number]): string | undefined {
    const node = newNode(this.store.doc, type, at, this.catalogue);
    if (!node) {
      this.hub.hint(`Unknown node kind '${type}'.`, 'error');
      return undefined;
    }
    this.store.dispatch({ type: 'add-nodes', nodes: [node] }, `add ${node.id}`);
    return node.id;
  }

  removeNodes(ids: string[]): void {
    if (!ids.length) return;
    this.store.dispatch(
      { type: 'remove-nodes', ids },
      ids.length === 1 ? `delete ${ids[0]}` : `delete ${ids.length} nodes`,
    );
  }

  destroy(): void {
    this.unsubscribe?.();
    this.view.destroy();
  }
}
