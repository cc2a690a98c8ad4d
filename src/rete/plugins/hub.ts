/**
 * The scope the mam-studio plugins share. It sits on the host's area plugin,
 * passes the area's and the editor's signals on to its children (document
 * sync, typed links, selection, drop-to-swap, viewport, context menu) and
 * carries theirs: `mam-change`, `mam-selection`, `mam-link-selection` and
 * `mam-hint`. The handle's `on()` listens to those signals here.
 */
import { Scope, type NodeEditor, type Root } from 'rete';
import type { Area2D } from 'rete-area-plugin';
import type { Analysis } from '../../graph/infer.ts';
import type { GraphDoc } from '../../graph/types.ts';
import type { Schemes } from '../schemes.ts';
import type { AnyArea } from '../sync.ts';

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

/** The signal of each event. */
const SIGNAL = {
  change: 'mam-change',
  selection: 'mam-selection',
  linkSelection: 'mam-link-selection',
  hint: 'mam-hint',
} as const satisfies Record<keyof MamEvents, string>;

export type MamSignal = {
  [E in keyof MamEvents]: { type: (typeof SIGNAL)[E]; data: MamEvents[E] };
}[keyof MamEvents];

/** The signals a child of the hub sees: its own, the area's and the editor's. */
export type HubChildParents = [MamSignal, Area2D<Schemes>, Root<Schemes>];

const EVENT_OF = new Map<string, keyof MamEvents>(
  Object.entries(SIGNAL).map(([e, s]) => [s, e as keyof MamEvents]),
);

export class MamHub extends Scope<MamSignal, [Area2D<Schemes>, Root<Schemes>]> {
  private listeners = new Map<keyof MamEvents, Set<(data: never) => void>>();

  constructor() {
    super('mam-studio');
    // First pipe: the handle's listeners hear a signal as it is emitted, before any child.
    this.addPipe((ctx) => {
      const event = ctx && typeof ctx === 'object' && 'type' in ctx && EVENT_OF.get(ctx.type);
      if (event)
        for (const fn of this.listeners.get(event) ?? [])
          (fn as (d: unknown) => void)((ctx as MamSignal).data);
      return ctx;
    });
  }

  /** Emits event `event` as its signal to every listener and child. */
  send<E extends keyof MamEvents>(event: E, data: MamEvents[E]): void {
    void this.emit({ type: SIGNAL[event], data } as MamSignal);
  }

  hint(message: string, level: 'info' | 'error' = 'info'): void {
    this.send('hint', { message, level });
  }

  on<E extends keyof MamEvents>(event: E, fn: (data: MamEvents[E]) => void): () => void {
    let set = this.listeners.get(event);
    if (!set) this.listeners.set(event, (set = new Set()));
    set.add(fn as (d: never) => void);
    return () => set.delete(fn as (d: never) => void);
  }

  get area(): AnyArea {
    return this.parentScope() as unknown as AnyArea;
  }

  get editor(): NodeEditor<Schemes> {
    return this.area.parentScope() as unknown as NodeEditor<Schemes>;
  }
}

/** A plugin under the hub: it reaches the hub, the area and the editor through its parents. */
export abstract class HubChild extends Scope<never, HubChildParents> {
  protected get hub(): MamHub {
    return this.parentScope() as unknown as MamHub;
  }

  override setParent(scope: Scope<MamSignal, [Area2D<Schemes>, Root<Schemes>]>): void {
    super.setParent(scope);
    this.addPipe((ctx) => {
      this.onSignal(ctx);
      return ctx;
    });
    this.attach(this.hub);
  }

  /** Called once the plugin is in the hub. */
  protected abstract attach(hub: MamHub): void;

  /** Every signal the hub passes on. */
  protected onSignal(_ctx: MamSignal | Area2D<Schemes> | Root<Schemes>): void {}
}
