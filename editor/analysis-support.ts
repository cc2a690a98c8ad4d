/**
 * Whether the Maps and Ablation views can serve the open graph: both run on
 * 2D slices (the demo set's test slices, its training slices), so a graph
 * whose input is a volume gets a reason instead of a run on data it was not
 * built for.
 */
import type { GraphDoc } from '../src/graph/types.ts';

export type AnalysisView = 'maps' | 'ablation';

const VIEW_WORDS: Record<AnalysisView, string> = {
  maps: 'Maps are 2D-only for now',
  ablation: 'Ablation is 2D-only for now',
};

/** Why `view` cannot run on `doc` (a one-line reason naming the input node), or undefined when it can. */
export function analysisRefusal(doc: GraphDoc | undefined, view: AnalysisView): string | undefined {
  const volume = doc?.nodes.find((n) => n.type === 'image-input' && Number(n.params?.depth) > 0);
  if (!volume) return undefined;
  const p = volume.params!;
  const size = [p.depth, p.height, p.width].join('×');
  return `${VIEW_WORDS[view]}: this graph's input (${volume.id}) is a ${size} volume, and the view runs on the 2D demo slices`;
}
