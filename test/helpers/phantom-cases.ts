/** Phantom volumes as data-set cases (for training and evaluation tests). */
import { makePhantom } from '../../src/data/phantom.ts';
import { identityAffine, type Case } from '../../src/data/types.ts';
import type { SessionData } from '../../src/session/session.ts';
import { caseSlices, dataFingerprint } from '../../src/train/samples.ts';

/** A [depth, size, size] phantom as a Case (NIfTI dims [size, size, depth]). */
export function phantomCase(id: string, seed: number, size = 16, depth = 6, organs = 2): Case {
  const p = makePhantom({ shape: [depth, size, size], organs, seed, noise: 0.05 });
  const dims = [size, size, depth];
  return {
    id,
    channels: [
      { data: p.image, dims, spacing: [1, 1, 1], affine: identityAffine(), datatype: 'float32' },
    ],
    label: { data: p.label, dims, spacing: [1, 1, 1], affine: identityAffine() },
    files: [`${id}.nii.gz`],
  };
}

/** Three phantom cases as a session's data set: one each for train, val and test (6 slices of 16×16). */
export function phantomSessionData(): SessionData {
  const cases = { train: phantomCase('a', 1), val: phantomCase('b', 2), test: phantomCase('c', 3) };
  const train = caseSlices(cases.train, 'none');
  const split = { slices: 6, classesPresent: ['organ1', 'organ2'] };
  return {
    info: {
      source: 'phantoms',
      classNames: ['background', 'organ1', 'organ2'],
      trainSlices: train.length,
      splits: { train: split, val: split, test: split },
    },
    train,
    cases: { train: [cases.train], val: [cases.val], test: [cases.test] },
    fingerprint: dataFingerprint([cases.train, cases.val, cases.test]),
    splitRule: 'one phantom per split',
  };
}
