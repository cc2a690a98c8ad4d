/**
 * Inference (shapes, counts, chains) on a 500-node graph: must stay under one
 * frame (16 ms) to rerun on every edit. Baseline in the same process: a
 * structuredClone of the same document (the cheapest full pass over it).
 */
import { swinUnet } from '../src/graph/presets.ts';
import { analyzeGraph } from '../src/graph/infer.ts';
import { time, writeResult } from './util.ts';

export function run() {
  // Swin-Unet with deep stages and STS memory through encoder and decoder: ≈500 nodes.
  const doc = swinUnet({
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
  });
  const nodes = doc.nodes.length;
  const inferMs = time(() => analyzeGraph(doc), { runs: 30 });
  const cloneMs = time(() => structuredClone(doc), { runs: 30 });
  const result = {
    nodes,
    links: doc.links.length,
    inferMs: Number(inferMs.toFixed(3)),
    baselineCloneMs: Number(cloneMs.toFixed(3)),
    ratioToClone: Number((inferMs / cloneMs).toFixed(2)),
    ratioToFrame16ms: Number((inferMs / 16).toFixed(3)),
  };
  console.log(
    `infer: ${nodes} nodes, ${doc.links.length} links: ${result.inferMs} ms (median of 30), ` +
      `${result.ratioToClone}× a structuredClone of the document, ${result.ratioToFrame16ms}× a 16 ms frame`,
  );
  writeResult('infer', result);
  return result;
}

if (import.meta.url === `file://${process.argv[1]}`) run();
