/** Test helper: every SAM block of a graph replaced by its MAM unit (same id, same params, no memory links). */
import { getKind } from '../../nodes/index.ts';
import type { GraphDoc } from '../../src/graph/types.ts';

export function swapAll(doc: GraphDoc): GraphDoc {
  return {
    ...doc,
    nodes: doc.nodes.map((n) => {
      const kind = getKind(n.type);
      if (kind?.role !== 'attention' || !kind.swapWith) return n;
      return { ...n, type: kind.swapWith, params: { ...n.params, memoryLayout: 'window' } };
    }),
  };
}
