/** Writes presets/*.json from src/graph/presets.ts. Run: npx tsx scripts/make-presets.ts */
import { catalogue } from '../nodes/index.ts';
import { mkdirSync, writeFileSync } from 'node:fs';
import { presets } from '../src/graph/presets.ts';
import { saveGraph } from '../src/graph/save.ts';

const dir = new URL('../presets/', import.meta.url);
mkdirSync(dir, { recursive: true });
for (const [name, doc] of Object.entries(presets(catalogue))) {
  writeFileSync(new URL(`${name}.json`, dir), saveGraph(doc));
  console.log(`presets/${name}.json  ${doc.nodes.length} nodes, ${doc.links.length} links`);
}
