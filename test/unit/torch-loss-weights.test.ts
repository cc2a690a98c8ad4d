/**
 * The torch runtime reads `metadata.training.loss` as `mam train` does: a
 * graph that asks for 0.5·CE + 0.5·Dice trains with that loss (checked from
 * the CE and Dice parts it records) and keeps the weights in the run's
 * settings, so a resumed run (either runtime) uses them too.
 */
import { readFileSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { expect, it } from 'vitest';
import { spawnTrain, suiteTempDir } from '../helpers/torch-runtime.ts';
import { describeOracle, repoRoot } from './data-oracle.ts';

describeOracle('torch runtime: loss weights from the graph metadata', () => {
  const tmp = suiteTempDir('mam-torch-loss-');

  it('metadata.training.loss {ce: 0.5, dice: 0.5}: loss = 0.5·CE + 0.5·Dice, kept in the settings', async () => {
    const doc = JSON.parse(readFileSync(join(repoRoot, 'presets', 'demo-mam.json'), 'utf8'));
    doc.metadata.training.loss = { ce: 0.5, dice: 0.5 };
    const graph = join(tmp(), 'half.json');
    writeFileSync(graph, JSON.stringify(doc));
    const out = join(tmp(), 'run');
    const r = await spawnTrain(1, [
      graph,
      ...['--data', 'demo', '--steps', '1', '--batch', '2', '--val-every', '0', '--out', out],
    ]);
    expect(r.stderr + r.code).toMatch(/0$/);
    expect(r.stderr).toContain('loss 0.5·CE + 0.5·Dice');
    const state = JSON.parse(readFileSync(join(out, 'checkpoint', 'state.json'), 'utf8')) as {
      settings: { loss: unknown };
      history: { loss: number; ce: number; dice: number }[];
    };
    expect(state.settings.loss).toEqual({ ce: 0.5, dice: 0.5 });
    const [row] = state.history;
    expect(Math.abs(row.ce - row.dice)).toBeGreaterThan(0.05);
    expect(row.loss).toBeCloseTo(0.5 * row.ce + 0.5 * row.dice, 6);
  });
});
