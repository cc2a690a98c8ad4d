/**
 * The Rete-side classes: one MamNode per document node, one MamConnection per
 * document link, one socket class per socket kind. They mirror the document;
 * they never hold state the document does not (apart from view decoration:
 * shapes, counts, problems, chain labels, hover).
 */
import { ClassicPreset, type GetSchemes } from 'rete';
import type { LinkDoc, NodeDoc } from '../graph/types.ts';
import type { NodeKind, SocketKind } from '../graph/node-kind.ts';
import type { NodeInfo } from '../graph/infer.ts';

export type SocketName = SocketKind | 'unknown';

export class MamSocket extends ClassicPreset.Socket {
  constructor(readonly kind: SocketName) {
    super(kind);
  }
}

/** One socket instance per kind: Rete compares sockets by identity in some presets. */
export const sockets: Record<SocketName, MamSocket> = {
  image: new MamSocket('image'),
  tokens: new MamSocket('tokens'),
  memory: new MamSocket('memory'),
  mask: new MamSocket('mask'),
  scalar: new MamSocket('scalar'),
  unknown: new MamSocket('unknown'),
};

export interface ChainTag {
  /** 0-based index into Analysis.chains. */
  index: number;
  strategy: 'ISTS' | 'STS';
}

export const NODE_WIDTH = 220;

export class MamNode extends ClassicPreset.Node<
  Record<string, MamSocket>,
  Record<string, MamSocket>,
  Record<string, never>
> {
  width = NODE_WIDTH;
  height = 150;
  /** The document node as last synced (a snapshot; the store holds the truth). */
  doc: NodeDoc;
  kind: NodeKind | undefined;
  info: NodeInfo | undefined;
  chain: ChainTag | undefined;
  /** Set while the pointer is over this node's memory chain. */
  highlighted = false;
  /** Set while a palette item that could swap with this node is dragged over it. */
  dropTarget = false;

  constructor(
    doc: NodeDoc,
    kind: NodeKind | undefined,
    extraPorts: { inputs: string[]; outputs: string[] },
  ) {
    super(kind?.title ?? doc.type);
    this.id = doc.id;
    this.doc = doc;
    this.kind = kind;
    if (kind) {
      for (const p of kind.inputs)
        this.addInput(p.name, new ClassicPreset.Input(sockets[p.socket], p.label));
      for (const p of kind.outputs)
        this.addOutput(p.name, new ClassicPreset.Output(sockets[p.socket], p.label));
    } else {
      // An unknown kind keeps the ports its links name, so those links stay visible.
      for (const name of extraPorts.inputs)
        this.addInput(name, new ClassicPreset.Input(sockets.unknown, name));
      for (const name of extraPorts.outputs)
        this.addOutput(name, new ClassicPreset.Output(sockets.unknown, name));
    }
  }

  /** Port layout signature: a node is rebuilt when it changes (a swap changes the ports). */
  static signature(
    doc: NodeDoc,
    kind: NodeKind | undefined,
    extra: { inputs: string[]; outputs: string[] },
  ): string {
    if (kind) return kind.type;
    return `?${doc.type}|${extra.inputs.join(',')}|${extra.outputs.join(',')}`;
  }

  signature = '';
}

export class MamConnection extends ClassicPreset.Connection<MamNode, MamNode> {
  socket: SocketName = 'unknown';
  /** Problems on this link, in words. */
  problems: string[] = [];
  chain: ChainTag | undefined;
  highlighted = false;
  /** Picked by a click; Delete removes it. */
  selected = false;
  isPseudo?: boolean;

  constructor(source: MamNode, link: LinkDoc, target: MamNode) {
    super(source, link.from.port, target, link.to.port);
    this.id = linkKey(link);
  }
}

export type Schemes = GetSchemes<MamNode, MamConnection>;

export const linkKey = (l: LinkDoc): string =>
  `${l.from.node}:${l.from.port}->${l.to.node}:${l.to.port}`;
