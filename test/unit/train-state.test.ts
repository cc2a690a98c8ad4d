/**
 * parseTrainState (a checkpoint's state.json) validates every field and says
 * which one is wrong by its JSON path, in one line; a broken state never
 * reaches the loop as if it were whole.
 */
import { describe, expect, it } from 'vitest';
import { parseTrainState } from '../../src/train/checkpoint.ts';

/** A whole state, written by hand (not by the loop), as `mam train` leaves it after 2 of 8 steps. */
function validState(): Record<string, unknown> {
  return {
    format: 'mam-studio/train-state',
    version: 1,
    step: 2,
    epoch: 0,
    settings: {
      batchSize: 4,
      steps: 8,
      learningRate: 0.05,
      schedule: 'poly',
      optimizer: { kind: 'sgd', momentum: 0.9, weightDecay: 0.0001 },
      seed: 3,
      valEvery: 4,
      checkpointEvery: 2,
      patience: 0,
      augment: false,
      convention: 'synapse',
      normalisation: 'none',
    },
    rng: { seed: 3, scheme: 'fnv1a(seed, purpose:step) → mulberry32' },
    best: null,
    validationsSinceBest: 0,
    lastValidation: null,
    history: [
      { step: 1, epoch: 0, loss: 1.5, ce: 1.2, dice: 0.9, lr: 0.05, elapsedSec: 0.5 },
      { step: 2, epoch: 0, loss: null, ce: 1.1, dice: 0.8, lr: 0.04, elapsedSec: 1 },
    ],
    elapsedSec: 1,
    weightsFingerprint: 'abcd1234',
    dataFingerprint: 'ef567890',
  };
}

const parse = (v: unknown) => parseTrainState(JSON.stringify(v));

/** The state with one field changed (or removed, for undefined) at a path of keys. */
function corrupt(path: (string | number)[], value: unknown) {
  const s = validState();
  let o = s as Record<string | number, unknown>;
  for (const k of path.slice(0, -1)) o = o[k] as Record<string | number, unknown>;
  const last = path.at(-1)!;
  if (value === undefined) delete o[last];
  else o[last] = value;
  return parse(s);
}

describe('parseTrainState', () => {
  it('reads a whole state; a loss JSON wrote as null (NaN) comes back NaN', () => {
    const r = parse(validState());
    expect(r.ok).toBe(true);
    if (!r.ok) return;
    expect(r.state.step).toBe(2);
    expect(r.state.settings.optimizer).toEqual({ kind: 'sgd', momentum: 0.9, weightDecay: 0.0001 });
    expect(r.state.history[1].loss).toBeNaN();
    expect(r.state.history[0].loss).toBe(1.5);
  });

  it('not JSON, or not a training state: said so', () => {
    expect(parseTrainState('{"step": 2')).toMatchObject({
      ok: false,
      message: expect.stringMatching(/^state\.json is not valid JSON/),
    });
    expect(parse({ format: 'mam-studio/weights', version: 1 })).toEqual({
      ok: false,
      message: 'state.json is not a mam-studio training state (version 1)',
    });
  });

  it.each([
    [['step'], -1, '$.step'],
    [['step'], 'two', '$.step'],
    [['settings', 'batchSize'], undefined, '$.settings.batchSize'],
    [['settings', 'batchSize'], 0, '$.settings.batchSize'],
    [['settings', 'schedule'], 'cosine', '$.settings.schedule'],
    [['settings', 'optimizer', 'momentum'], '0.9', '$.settings.optimizer.momentum'],
    [['settings', 'normalisation'], 'zscore', '$.settings.normalisation'],
    [['history', 1, 'lr'], 'fast', '$.history[1].lr'],
    [['history', 0, 'step'], 1.5, '$.history[0].step'],
    [['rng'], undefined, '$.rng'],
    [['weightsFingerprint'], 7, '$.weightsFingerprint'],
    [['best'], { step: 2 }, '$.best.meanDice'],
  ])('a bad %j (%j) is named: %s', (path, value, where) => {
    const r = corrupt(path as (string | number)[], value);
    expect(r.ok).toBe(false);
    if (r.ok) return;
    expect(r.message.startsWith(`state.json ${where}: `), r.message).toBe(true);
    expect(r.message).not.toContain('\n');
  });
});
