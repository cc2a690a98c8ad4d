/** The canvas context menu: add a node, open a preset, swap, convert to MAM/SAM, delete. */
import { nodeKinds } from '../../nodes/index.ts';
import type { GraphDoc } from '../graph/types.ts';
import type { MamNode } from './schemes.ts';

export interface MenuItem {
  label: string;
  key: string;
  handler(): void;
  subitems?: MenuItem[];
}

export interface MenuActions {
  addNode(type: string): void;
  openPreset(name: string): void;
  presetNames(): string[];
  presetTitle(name: string): string;
  swap(id: string): void;
  convert(
    scope: { stageOf: string } | 'encoder' | 'decoder' | 'network',
    strategy: 'ISTS' | 'STS',
  ): void;
  convertToSam(scope: { stageOf: string } | 'encoder' | 'decoder' | 'network'): void;
  remove(ids: string[]): void;
  selected(): string[];
  fit(): void;
  doc(): GraphDoc;
}

const noop = () => undefined;

export function menuItems(
  context: 'root' | MamNode,
  a: MenuActions,
): { searchBar: boolean; list: MenuItem[] } {
  if (context === 'root') {
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
        {
          label: 'Convert the network to MAM (ISTS)',
          key: 'net-ists',
          handler: () => a.convert('network', 'ISTS'),
        },
        {
          label: 'Convert the network to MAM (STS)',
          key: 'net-sts',
          handler: () => a.convert('network', 'STS'),
        },
        {
          label: 'Convert the network to SAM',
          key: 'net-sam',
          handler: () => a.convertToSam('network'),
        },
        { label: 'Fit view', key: 'fit', handler: () => a.fit() },
      ],
    };
  }
  const node = context;
  const list: MenuItem[] = [];
  const role = node.kind?.role;
  if (node.kind?.swapWith) {
    const to = node.kind.swapWith;
    list.push({
      label:
        role === 'memory-unit' ? 'Swap to self-attention (SAM)' : 'Swap to memory-attention (MAM)',
      key: `swap-${to}`,
      handler: () => a.swap(node.id),
    });
  }
  if (role === 'attention' || role === 'memory-unit') {
    const stage = { stageOf: node.id };
    list.push(
      {
        label: 'Convert this stage to MAM (ISTS)',
        key: 'stage-ists',
        handler: () => a.convert(stage, 'ISTS'),
      },
      {
        label: 'Convert this stage to MAM (STS)',
        key: 'stage-sts',
        handler: () => a.convert(stage, 'STS'),
      },
      {
        label: 'Convert this stage to SAM',
        key: 'stage-sam',
        handler: () => a.convertToSam(stage),
      },
    );
  }
  const scope = node.info?.scope === 'decoder' ? 'decoder' : 'encoder';
  list.push(
    {
      label: `Convert the ${scope} to MAM (ISTS)`,
      key: `${scope}-ists`,
      handler: () => a.convert(scope, 'ISTS'),
    },
    {
      label: `Convert the ${scope} to MAM (STS)`,
      key: `${scope}-sts`,
      handler: () => a.convert(scope, 'STS'),
    },
    {
      label: 'Convert the whole network to MAM (ISTS)',
      key: 'net-ists',
      handler: () => a.convert('network', 'ISTS'),
    },
    {
      label: 'Convert the whole network to MAM (STS)',
      key: 'net-sts',
      handler: () => a.convert('network', 'STS'),
    },
    {
      label: 'Delete',
      key: 'delete',
      handler: () => {
        const sel = a.selected();
        a.remove(sel.includes(node.id) ? sel : [node.id]);
      },
    },
  );
  return { searchBar: false, list };
}
