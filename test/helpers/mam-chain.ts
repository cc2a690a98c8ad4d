/** input 32×32×1 → patch 4 → 8×8×16 tokens → `n` MAM units (window 4), each feeding the next one's memory. */
import { catalogue } from '../../nodes/index.ts';
import { GraphBuilder } from '../../src/graph/builder.ts';

export function mamChain(n = 2, unit: Record<string, unknown> = {}): GraphBuilder {
  const b = new GraphBuilder(catalogue);
  b.add('input', 'image-input', { channels: 1, height: 32, width: 32 });
  b.add('embed', 'patch-embed', { patchSize: 4, embedDim: 16 });
  b.link('input', 'embed');
  let prev = 'embed';
  for (let i = 0; i < n; i++) {
    b.add(`u${i}`, 'mam-swin-block', {
      heads: 2,
      window: 4,
      shift: i % 2 ? 2 : 0,
      ...unit,
    } as never);
    b.link(prev, `u${i}`);
    if (i > 0) b.memory(`u${i - 1}`, `u${i}`);
    prev = `u${i}`;
  }
  return b;
}
