// One window geometry for the node specs (shape rule, problems) and the kernels (src/ops).
import { describe, expect, it } from 'vitest';
import { catalogue } from '../../nodes/index.ts';
import { effectiveWindow, windowProblems } from '../../src/graph/geometry.ts';
import { analyzeGraph } from '../../src/graph/infer.ts';
import type { GraphDoc } from '../../src/graph/types.ts';
import { fitWindow } from '../../src/ops/windows.ts';

/** A Swin block on a token grid of `grid` (patch embed of an image of that size, patch 1). */
function block(grid: [number, number], window: number, shift: number): GraphDoc {
  return {
    format: 'mam-studio/graph',
    version: 1,
    nodes: [
      {
        id: 'in',
        type: 'image-input',
        params: { channels: 1, height: grid[0], width: grid[1], depth: 0 },
        position: [0, 0],
      },
      {
        id: 'e',
        type: 'patch-embed',
        params: { patchSize: 1, embedDim: 4, norm: true },
        position: [0, 0],
      },
      {
        id: 'b',
        type: 'swin-block',
        params: { heads: 2, window, shift, mlpRatio: 1, qkvBias: true, dropPath: 0 },
        position: [0, 0],
      },
    ],
    links: [
      { from: { node: 'in', port: 'out' }, to: { node: 'e', port: 'in' } },
      { from: { node: 'e', port: 'out' }, to: { node: 'b', port: 'in' } },
    ],
  };
}

describe('window geometry', () => {
  it('w_eff = min(w, grid), shift 0 when the grid fits one window (MAM-SPEC §1)', () => {
    expect(effectiveWindow([56, 56], 7, 3)).toEqual({ window: 7, shift: 3 });
    expect(effectiveWindow([7, 7], 7, 3)).toEqual({ window: 7, shift: 0 });
    expect(effectiveWindow([4, 8], 7, 3)).toEqual({ window: 4, shift: 0 });
    expect(windowProblems([6, 8], { window: 4, shift: 2 })).toEqual([
      'token grid 6×8 is not divisible by window 4',
    ]);
    expect(windowProblems([8, 8], { window: 4, shift: 4 })).toEqual([
      'shift 4 must be smaller than window 4',
    ]);
  });

  const cases: [[number, number], number, number][] = [
    [[8, 8], 4, 2],
    [[8, 8], 4, 4],
    [[6, 8], 4, 2],
    [[12, 12], 5, 2],
    [[4, 4], 7, 3],
    [[3, 6], 4, 1],
    [[16, 8], 8, 0],
  ];
  it.each(cases)('the spec and the kernel agree on grid %j, window %i, shift %i', (grid, w, s) => {
    const info = analyzeGraph(block(grid, w, s), catalogue).nodes.get('b')!;
    const specSays = info.issues.length === 0;
    let kernelSays = true;
    try {
      fitWindow(grid, w, s);
    } catch {
      kernelSays = false;
    }
    expect(specSays).toBe(kernelSays);
    // the bias table is sized by the same effective window the kernel uses
    const table = info.weights.find((x) => x.name === 'attn.relative_position_bias_table')!;
    const wEff = Math.min(w, ...grid);
    expect(table.shape).toEqual([(2 * wEff - 1) ** 2, 2]);
  });
});
