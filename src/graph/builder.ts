/** A small programmatic way to write graph documents (presets, tests, conversions). */
import type { Catalogue } from './node-kind.ts';
import {
  GRAPH_FORMAT,
  GRAPH_VERSION,
  type GraphDoc,
  type GraphMetadata,
  type ParamValue,
} from './types.ts';

export class GraphBuilder {
  readonly doc: GraphDoc;

  private readonly catalogue: Catalogue;

  /** Nodes are added with the kinds of `catalogue`. */
  constructor(catalogue: Catalogue, metadata?: GraphMetadata) {
    this.catalogue = catalogue;
    this.doc = {
      format: GRAPH_FORMAT,
      version: GRAPH_VERSION,
      ...(metadata ? { metadata } : {}),
      nodes: [],
      links: [],
    };
  }

  /** Add a node with every parameter explicit (defaults filled in from its kind). */
  add(
    id: string,
    type: string,
    params: Record<string, ParamValue> = {},
    position: [number, number] = [0, 0],
  ): string {
    const kind = this.catalogue.get(type);
    if (!kind) throw new Error(`unknown node kind '${type}'`);
    const full: Record<string, ParamValue> = {};
    for (const p of kind.params) full[p.name] = structuredClone(params[p.name] ?? p.default);
    for (const k of Object.keys(params)) {
      if (!(k in full)) throw new Error(`node kind '${type}' has no parameter '${k}'`);
    }
    this.doc.nodes.push({ id, type, position, params: full });
    return id;
  }

  link(from: string, to: string, fromPort = 'out', toPort = 'in'): void {
    this.doc.links.push({ from: { node: from, port: fromPort }, to: { node: to, port: toPort } });
  }

  memory(from: string, to: string): void {
    this.link(from, to, 'memOut', 'memIn');
  }
}

/** What every preset says about itself: the title, the description and its training metadata. */
export interface PresetHeader {
  title: string;
  description: string;
  metadata?: Partial<GraphMetadata>;
}

/**
 * A preset's builder with its metadata and its input node (`input`, of the
 * given size: height/width, and depth for a volume) added first.
 */
export function presetBuilder(
  catalogue: Catalogue,
  o: PresetHeader,
  input: { channels: number; depth?: number; height: number; width: number },
): GraphBuilder {
  const b = new GraphBuilder(catalogue, {
    title: o.title,
    description: o.description,
    createdWith: 'mam-studio 0.1.0',
    ...o.metadata,
  });
  b.add('input', 'image-input', input);
  return b;
}
