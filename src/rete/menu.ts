/** The canvas context menu and the conversions menu: add a node, open a preset, swap, convert to MAM/SAM, delete. */
import type { ConvertScope } from '../graph/convert.ts';
import type { NodeInfo } from '../graph/infer.ts';
import type { NodeKind } from '../graph/node-kind.ts';
import type { GraphDoc } from '../graph/types.ts';

export interface MenuItem {
  label: string;
  /** Unique among its siblings; keys starting with `sep` draw a separator. */
  key: string;
  handler(): void;
  subitems?: MenuItem[];
}

/** What the menus need to know of a node (a MamNode is one). */
export interface MenuNode {
  id: string;
  kind?: NodeKind;
  info?: NodeInfo;
}

export interface MenuActions {
  /** The node kinds the Add node menu offers, in order. */
  kinds(): readonly NodeKind[];
  addNode(type: string): void;
  openPreset(name: string): void;
  presetNames(): string[];
  presetTitle(name: string): string;
  swap(id: string): void;
  convert(scope: ConvertScope, strategy: 'ISTS' | 'STS'): void;
  convertToSam(scope: ConvertScope): void;
  remove(ids: string[]): void;
  selected(): string[];
  fit(): void;
  doc(): GraphDoc;
}

const noop = () => undefined;
const sep = (key: string): MenuItem => ({ label: '', key: `sep-${key}`, handler: noop });

/** The three conversions of one scope: to MAM with ISTS, with STS, and back to SAM. */
function convertScope(a: MenuActions, scope: ConvertScope, what: string, key: string): MenuItem[] {
  return [
    {
      label: `Convert ${what} to MAM (ISTS)`,
      key: `${key}-ists`,
      handler: () => a.convert(scope, 'ISTS'),
    },
    {
      label: `Convert ${what} to MAM (STS)`,
      key: `${key}-sts`,
      handler: () => a.convert(scope, 'STS'),
    },
    { label: `Convert ${what} to SAM`, key: `${key}-sam`, handler: () => a.convertToSam(scope) },
  ];
}

/**
 * Every conversion that applies: with a node, its stage (for an attention
 * block or MAM unit), its encoder or decoder and the whole network; without
 * one, the network.
 */
export function conversionItems(node: MenuNode | undefined, a: MenuActions): MenuItem[] {
  if (!node) return convertScope(a, 'network', 'the network', 'net');
  const role = node.kind?.role;
  const list: MenuItem[] = [];
  if (role === 'attention' || role === 'memory-unit')
    list.push(...convertScope(a, { stageOf: node.id }, 'this stage', 'stage'), sep('stage'));
  const scope = node.info?.scope === 'decoder' ? 'decoder' : 'encoder';
  list.push(
    ...convertScope(a, scope, `the ${scope}`, scope),
    sep('scope'),
    ...convertScope(a, 'network', 'the whole network', 'net'),
  );
  return list;
}

export function menuItems(
  context: 'root' | MenuNode,
  a: MenuActions,
): { searchBar: boolean; list: MenuItem[] } {
  if (context === 'root') {
    const nodeKinds = a.kinds();
    const categories = [...new Set(nodeKinds.map((k) => k.category))];
    return {
      searchBar: false,
      list: [
        {
          label: 'Add node',
          key: 'add',
          handler: noop,
          subitems: categories.map((c) => ({
            label: c,
            key: `cat-${c}`,
            handler: noop,
            subitems: nodeKinds
              .filter((k) => k.category === c)
              .map((k) => ({ label: k.title, key: k.type, handler: () => a.addNode(k.type) })),
          })),
        },
        {
          label: 'Presets',
          key: 'presets',
          handler: noop,
          subitems: a.presetNames().map((name) => ({
            label: a.presetTitle(name),
            key: `preset-${name}`,
            handler: () => a.openPreset(name),
          })),
        },
        sep('add'),
        ...conversionItems(undefined, a),
        sep('convert'),
        { label: 'Fit view', key: 'fit', handler: () => a.fit() },
      ],
    };
  }
  const node = context;
  const list: MenuItem[] = [];
  if (node.kind?.swapWith) {
    const to = node.kind.swapWith;
    list.push(
      {
        label:
          node.kind.role === 'memory-unit'
            ? 'Swap to self-attention (SAM)'
            : 'Swap to memory-attention (MAM)',
        key: `swap-${to}`,
        handler: () => a.swap(node.id),
      },
      sep('swap'),
    );
  }
  list.push(...conversionItems(node, a), sep('delete'), {
    label: 'Delete',
    key: 'delete',
    handler: () => {
      const sel = a.selected();
      a.remove(sel.includes(node.id) ? sel : [node.id]);
    },
  });
  return { searchBar: false, list };
}
