/**
 * Copy and paste of a selection: the nodes and the links among them travel as
 * a small JSON value (also as text for the system clipboard); pasting gives
 * every node a fresh unique id and an offset, as one `add-nodes` command, so
 * it is one undo step.
 */
import type { Command } from './commands.ts';
import { linkSchema, nodeSchema } from './schema.ts';
import type { GraphDoc, LinkDoc, NodeDoc } from './types.ts';

export const CLIPBOARD_FORMAT = 'mam-studio/clipboard';

export interface Clipboard {
  format: typeof CLIPBOARD_FORMAT;
  version: 1;
  nodes: NodeDoc[];
  /** Only links whose two ends are both in `nodes`. */
  links: LinkDoc[];
}

export function copySelection(doc: GraphDoc, ids: Iterable<string>): Clipboard {
  const want = new Set(ids);
  const seen = new Set<string>();
  const nodes = doc.nodes.filter((n) => want.has(n.id) && !seen.has(n.id) && seen.add(n.id));
  const links = doc.links.filter((l) => seen.has(l.from.node) && seen.has(l.to.node));
  return {
    format: CLIPBOARD_FORMAT,
    version: 1,
    nodes: structuredClone(nodes),
    links: structuredClone(links),
  };
}

/** Copy, plus the command that removes the selection (links to the rest go with it). */
export function cutSelection(
  doc: GraphDoc,
  ids: Iterable<string>,
): { clipboard: Clipboard; command: Command } {
  const clipboard = copySelection(doc, ids);
  return { clipboard, command: { type: 'remove-nodes', ids: clipboard.nodes.map((n) => n.id) } };
}

/** `layers.0.blocks.1` → `layers.0.blocks.1_copy`, then `_copy2`, … (a copy of a copy does not grow). */
export function freshId(id: string, taken: Set<string>): string {
  const base = id.replace(/_copy\d*$/, '');
  let candidate = `${base}_copy`;
  for (let i = 2; taken.has(candidate); i++) candidate = `${base}_copy${i}`;
  taken.add(candidate);
  return candidate;
}

export interface PasteResult {
  command: Command;
  /** Old id → new id. */
  ids: Record<string, string>;
}

export function pasteClipboard(
  doc: GraphDoc,
  clip: Clipboard,
  opts: { offset?: [number, number] } = {},
): PasteResult {
  const [dx, dy] = opts.offset ?? [40, 40];
  const taken = new Set(doc.nodes.map((n) => n.id));
  const ids: Record<string, string> = {};
  for (const n of clip.nodes) if (!(n.id in ids)) ids[n.id] = freshId(n.id, taken);
  const nodes = clip.nodes.map((n): NodeDoc => ({
    ...structuredClone(n),
    id: ids[n.id],
    position: [n.position[0] + dx, n.position[1] + dy],
  }));
  const links = clip.links
    .filter((l) => l.from.node in ids && l.to.node in ids)
    .map((l): LinkDoc => ({
      from: { ...l.from, node: ids[l.from.node] },
      to: { ...l.to, node: ids[l.to.node] },
    }));
  return { command: { type: 'add-nodes', nodes, links }, ids };
}

export const clipboardToText = (clip: Clipboard): string => JSON.stringify(clip);

/** Read clipboard text back; anything that is not a mam-studio selection gets a sentence, not an exception. */
export function clipboardFromText(
  text: string,
): { ok: true; clipboard: Clipboard } | { ok: false; message: string } {
  let v: unknown;
  try {
    v = JSON.parse(text);
  } catch {
    return { ok: false, message: 'the clipboard does not hold mam-studio nodes (it is not JSON)' };
  }
  const o = v as Partial<Clipboard> | null;
  if (
    typeof o !== 'object' ||
    o === null ||
    o.format !== CLIPBOARD_FORMAT ||
    !Array.isArray(o.nodes) ||
    !Array.isArray(o.links)
  ) {
    return { ok: false, message: 'the clipboard does not hold mam-studio nodes' };
  }
  if (!o.nodes.every((n) => nodeSchema.safeParse(n).success))
    return { ok: false, message: 'the copied nodes are damaged and cannot be pasted' };
  const nodes = o.nodes as NodeDoc[];
  const ids = new Set(nodes.map((n) => n.id));
  const links = o.links.filter(
    (l): l is LinkDoc =>
      linkSchema.safeParse(l).success &&
      ids.has((l as LinkDoc).from.node) &&
      ids.has((l as LinkDoc).to.node),
  );
  return { ok: true, clipboard: { format: CLIPBOARD_FORMAT, version: 1, nodes, links } };
}
