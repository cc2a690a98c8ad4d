/**
 * Every edit is one command on the document: the editor, undo/redo, autosave
 * and sharing all work on the same thing. `applyCommand` is pure: it returns a
 * new document and never mutates the old one.
 *
 * `set-kind` (added for swap/convert): changes a node's kind in place and sets
 * its whole parameter record (not merged), keeping its id, position, label and
 * place in the node list, so links and weights (keyed by id) stay. Links to
 * ports the new kind lacks are not touched: send `disconnect` for them first.
 */
import type { GraphDoc, LinkDoc, NodeDoc, ParamValue } from './types.ts';

export type Command =
  | { type: 'add-nodes'; nodes: NodeDoc[]; links?: LinkDoc[] }
  | { type: 'remove-nodes'; ids: string[] }
  | { type: 'move-nodes'; moves: { id: string; position: [number, number] }[] }
  | { type: 'connect'; link: LinkDoc }
  | { type: 'disconnect'; link: LinkDoc }
  | { type: 'set-params'; id: string; params: Record<string, ParamValue> }
  | { type: 'set-label'; id: string; label: string | undefined }
  | { type: 'set-kind'; id: string; nodeType: string; params: Record<string, ParamValue> }
  | { type: 'set-metadata'; metadata: GraphDoc['metadata'] }
  | { type: 'replace'; doc: GraphDoc; label?: string };

export const sameLink = (a: LinkDoc, b: LinkDoc): boolean =>
  a.from.node === b.from.node &&
  a.from.port === b.from.port &&
  a.to.node === b.to.node &&
  a.to.port === b.to.port;

export function applyCommand(doc: GraphDoc, cmd: Command): GraphDoc {
  switch (cmd.type) {
    case 'add-nodes':
      return {
        ...doc,
        nodes: [...doc.nodes, ...cmd.nodes],
        links: [...doc.links, ...(cmd.links ?? [])],
      };
    case 'remove-nodes': {
      const ids = new Set(cmd.ids);
      return {
        ...doc,
        nodes: doc.nodes.filter((n) => !ids.has(n.id)),
        links: doc.links.filter((l) => !ids.has(l.from.node) && !ids.has(l.to.node)),
      };
    }
    case 'move-nodes': {
      const to = new Map(cmd.moves.map((m) => [m.id, m.position]));
      return {
        ...doc,
        nodes: doc.nodes.map((n) => (to.has(n.id) ? { ...n, position: to.get(n.id)! } : n)),
      };
    }
    case 'connect':
      // An input takes one link: connecting replaces whatever fed that input.
      return {
        ...doc,
        links: [
          ...doc.links.filter(
            (l) => !(l.to.node === cmd.link.to.node && l.to.port === cmd.link.to.port),
          ),
          cmd.link,
        ],
      };
    case 'disconnect':
      return { ...doc, links: doc.links.filter((l) => !sameLink(l, cmd.link)) };
    case 'set-params':
      return {
        ...doc,
        nodes: doc.nodes.map((n) =>
          n.id === cmd.id ? { ...n, params: { ...n.params, ...cmd.params } } : n,
        ),
      };
    case 'set-kind':
      return {
        ...doc,
        nodes: doc.nodes.map((n) =>
          n.id === cmd.id ? { ...n, type: cmd.nodeType, params: structuredClone(cmd.params) } : n,
        ),
      };
    case 'set-label':
      return {
        ...doc,
        nodes: doc.nodes.map((n) => {
          if (n.id !== cmd.id) return n;
          const { label: _old, ...rest } = n;
          return cmd.label ? { ...rest, label: cmd.label } : rest;
        }),
      };
    case 'set-metadata': {
      const { metadata: _old, ...rest } = doc;
      return cmd.metadata ? { ...rest, metadata: cmd.metadata } : (rest as GraphDoc);
    }
    case 'replace':
      return cmd.doc;
  }
}

/** One undo step may hold several commands (a drag-to-swap, a paste, a conversion). */
interface Step {
  before: GraphDoc;
  after: GraphDoc;
  label: string;
}

export type Listener = (
  doc: GraphDoc,
  change: { label: string; kind: 'do' | 'undo' | 'redo' | 'load' },
) => void;

/** The open document with its history. Whole-document snapshots: simple and exact. */
export class DocumentStore {
  private current: GraphDoc;
  private past: Step[] = [];
  private future: Step[] = [];
  private listeners = new Set<Listener>();

  constructor(
    doc: GraphDoc,
    private readonly limit = 200,
  ) {
    this.current = doc;
  }

  get doc(): GraphDoc {
    return this.current;
  }

  get canUndo(): boolean {
    return this.past.length > 0;
  }

  get canRedo(): boolean {
    return this.future.length > 0;
  }

  /** How many steps undo can take back. */
  get undoDepth(): number {
    return this.past.length;
  }

  /** Apply commands as one undo step. */
  dispatch(cmds: Command | Command[], label?: string): void {
    const list = Array.isArray(cmds) ? cmds : [cmds];
    if (!list.length) return;
    const before = this.current;
    const after = list.reduce(applyCommand, before);
    if (after === before) return;
    this.past.push({ before, after, label: label ?? list.map((c) => c.type).join(', ') });
    if (this.past.length > this.limit) this.past.shift();
    this.future = [];
    this.current = after;
    this.emit('do', this.past[this.past.length - 1].label);
  }

  undo(): boolean {
    const step = this.past.pop();
    if (!step) return false;
    this.future.push(step);
    this.current = step.before;
    this.emit('undo', step.label);
    return true;
  }

  redo(): boolean {
    const step = this.future.pop();
    if (!step) return false;
    this.past.push(step);
    this.current = step.after;
    this.emit('redo', step.label);
    return true;
  }

  /** Open another document: history starts afresh. */
  load(doc: GraphDoc, label = 'open'): void {
    this.current = doc;
    this.past = [];
    this.future = [];
    this.emit('load', label);
  }

  subscribe(fn: Listener): () => void {
    this.listeners.add(fn);
    return () => this.listeners.delete(fn);
  }

  private emit(kind: 'do' | 'undo' | 'redo' | 'load', label: string) {
    for (const fn of this.listeners) fn(this.current, { label, kind });
  }
}
