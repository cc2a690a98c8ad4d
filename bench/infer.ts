/**
 * Inference (shapes, counts, chains) on a 500-node graph: must stay under one
 * frame (16 ms) to rerun on every edit. Baseline in the same process: a
 * structuredClone of the same document (the cheapest full pass over it).
 */
import { swinUnet } from '../src/graph/presets.ts';
import { analyzeGraph } from '../src/graph/infer.ts';
import { timeStats, writeResult } from './util.ts';
import { loadavg } from 'node:os';
import { catalogue } from '../nodes/index.ts';

export function run() {
  // Swin-Unet with deep stages and STS memory through encoder and decoder: ≈500 nodes.
  const doc = swinUnet(
    {
      title: 'bench',
      description: '',
      imageSize: 224,
      inChannels: 3,
      classNames: ['a', 'b'],
      embedDim: 96,
      depths: [68, 68, 68, 68],
      heads: [3, 6, 12, 24],
      window: 7,
      patchSize: 4,
      dropPath: 0.2,
      encoder: 'sts',
      decoder: 'sts',
      memoryLayout: 'window',
      mergeMode: 'conv',
    },
    catalogue,
  );
  const nodes = doc.nodes.length;
  // a fresh document object each run: analyses are memoised per document
  const infer = timeStats(() => analyzeGraph({ ...doc }, catalogue), { warmup: 30, runs: 50 });
  const clone = timeStats(() => structuredClone(doc), { warmup: 30, runs: 50 });
  const inferMs = infer.median;
  const cloneMs = clone.median;
  const result = {
    nodes,
    links: doc.links.length,
    inferMs: Number(inferMs.toFixed(3)),
    inferMinMs: Number(infer.min.toFixed(3)),
    loadAverage1m: Number(loadavg()[0].toFixed(2)),
    baselineCloneMs: Number(cloneMs.toFixed(3)),
    ratioToClone: Number((inferMs / cloneMs).toFixed(2)),
    ratioToFrame16ms: Number((inferMs / 16).toFixed(3)),
  };
  console.log(
    `infer: ${nodes} nodes, ${doc.links.length} links: ${result.inferMs} ms (median of 50 after 30 warm-up runs), ` +
      `${result.ratioToClone}× a structuredClone of the document, ${result.ratioToFrame16ms}× a 16 ms frame; ` +
      `fastest run ${result.inferMinMs} ms (load average ${result.loadAverage1m})`,
  );
  writeResult('infer', result);
  return result;
}

if (import.meta.url === `file://${process.argv[1]}`) run();
