/**
 * A case's prediction as the file a user downloads: for a NIfTI case, NIfTI
 * on the case's own grid, voxel order and affine (as `mam eval --out`
 * writes it); for a PNG case, a PNG mask of the image's size whose gray
 * values are the class indices (as the PNG folders' masks are read).
 */
import { encode } from 'fast-png';
import { predictionFileName, writePredictionNifti } from '../data/nifti.ts';
import type { Case } from '../data/types.ts';

/** Whether a case came from a PNG image (its predictions are PNG masks). */
export const isPngCase = (c: Case) => c.files.length > 0 && /\.png$/i.test(c.files[0]);

export function predictionDownload(
  c: Case,
  labels: Uint8Array,
): { name: string; bytes: Uint8Array } {
  if (!isPngCase(c))
    return {
      name: predictionFileName(`${c.id}-prediction`),
      bytes: writePredictionNifti(labels, c),
    };
  const [width, height] = c.channels[0].dims;
  return {
    name: `${c.id}-prediction.png`,
    bytes: encode({ width, height, data: labels, depth: 8, channels: 1 }),
  };
}
