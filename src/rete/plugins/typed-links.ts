/**
 * Typed links: the document's rule (canConnect) decides before Rete touches
 * anything. The flow removes the link already feeding the input right after
 * canMakeConnection says yes, so a refusal must happen there: it shows the
 * reason as a hint and ends the drag once the flow's pick returns, changing
 * nothing. Links picked up during a drag are folded into the link it makes,
 * or disconnected when it ends (the connection plugin's pick and drop signals).
 */
import {
  ClassicFlow,
  ConnectionPlugin,
  getSourceTarget,
  type SocketData,
} from 'rete-connection-plugin';
import { canConnect } from '../../graph/rules.ts';
import type { LinkDoc } from '../../graph/types.ts';
import type { Schemes } from '../schemes.ts';
import type { DocumentSync } from './document-sync.ts';
import { HubChild, type MamHub } from './hub.ts';

const linkOf = (initial: SocketData, socket: SocketData): LinkDoc | undefined => {
  const ends = getSourceTarget(initial, socket);
  if (!ends) return undefined;
  const [source, target] = ends;
  return {
    from: { node: source.nodeId, port: source.key },
    to: { node: target.nodeId, port: target.key },
  };
};

/** The classic flow, which ends a drag its check refused as soon as that pick is over. */
// eslint-disable-next-line @typescript-eslint/no-explicit-any
class TypedFlow extends ClassicFlow<Schemes, any[]> {
  private refused = false;

  constructor(sync: DocumentSync, hint: (reason: string) => void) {
    super({
      canMakeConnection: (initial: SocketData, socket: SocketData) => {
        const link = linkOf(initial, socket);
        if (!link) return false; // output to output, or a click on the socket the drag began at
        const verdict = canConnect(sync.store.doc, link, sync.catalogue);
        if (verdict.ok) return true;
        hint(verdict.reason);
        this.refused = true; // the flow would keep a refused drag alive (click-to-connect)
        return false;
      },
      makeConnection: (initial: SocketData, socket: SocketData) => {
        const link = linkOf(initial, socket);
        if (!link || !canConnect(sync.store.doc, link, sync.catalogue).ok) return undefined;
        sync.view.connect(link);
        return true;
      },
    });
  }

  override async pick(...args: Parameters<ClassicFlow<Schemes, never[]>['pick']>): Promise<void> {
    await super.pick(...args);
    if (!this.refused) return;
    this.refused = false;
    this.drop(args[1]);
  }
}

export class TypedLinks extends HubChild {
  readonly connection = new ConnectionPlugin<Schemes>();

  constructor(private readonly sync: DocumentSync) {
    super('mam-typed-links');
  }

  protected attach(hub: MamHub): void {
    this.connection.addPreset(() => new TypedFlow(this.sync, (r) => hub.hint(r, 'error')));
    this.connection.addPipe((ctx) => {
      if (ctx.type === 'connectionpick') this.sync.view.holdDisconnects();
      else if (ctx.type === 'connectiondrop') this.sync.view.releaseDisconnects();
      return ctx;
    });
    hub.area.use(this.connection);
  }
}
