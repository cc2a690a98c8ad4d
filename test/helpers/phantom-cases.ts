/** Phantom volumes as data-set cases (for training and evaluation tests). */
import { makePhantom } from '../../src/data/phantom.ts';
import { identityAffine, type Case } from '../../src/data/types.ts';

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
