/** NIfTI data folders for CLI tests: imagesTr/labelsTr + classes.json of phantom cases, with optional damage. */
import { mkdirSync, writeFileSync } from 'node:fs';
import * as path from 'node:path';
import { writeNifti } from '../../src/data/nifti.ts';
import { phantomCase } from './phantom-cases.ts';

export interface NiftiFolderOptions {
  /** Cases (default 3), each 4 slices of 16×16 (seeds 20, 21, …). */
  cases?: number;
  /** [height, width] of the slices: the phantom's 16×16 at the top left, zeros beyond. */
  size?: [number, number];
  /** Image files per case (_0000, _0001, …), all the same image. */
  channels?: number;
  /** What is wrong with case 1: half its image file, a label on another grid, or a label value (at voxel 7). */
  damage?: 'truncate' | 'mismatch' | { label: number };
}

export function niftiFolder(root: string, opts: NiftiFolderOptions = {}): string {
  mkdirSync(path.join(root, 'imagesTr'), { recursive: true });
  mkdirSync(path.join(root, 'labelsTr'), { recursive: true });
  writeFileSync(
    path.join(root, 'classes.json'),
    JSON.stringify(['background', 'organ1', 'organ2']),
  );
  const [h, w] = opts.size ?? [16, 16];
  const depth = 4;
  const place = (src: ArrayLike<number>) => {
    const out = new Float32Array(w * h * depth);
    for (let z = 0; z < depth; z++)
      for (let y = 0; y < Math.min(h, 16); y++)
        for (let x = 0; x < Math.min(w, 16); x++)
          out[x + w * (y + h * z)] = src[x + 16 * (y + 16 * z)];
    return out;
  };
  for (let i = 0; i < (opts.cases ?? 3); i++) {
    const c = phantomCase(`case${i}`, 20 + i, 16, depth);
    const dims = [w, h, depth];
    let img = writeNifti(place(c.channels[0].data), dims);
    let labels: Float32Array = place(c.label!.data);
    let labelDims = dims;
    if (i === 1 && opts.damage === 'truncate') img = img.slice(0, Math.floor(img.length / 2));
    if (i === 1 && opts.damage === 'mismatch') {
      labelDims = [w, h, depth + 1];
      labels = new Float32Array(w * h * (depth + 1));
    }
    if (i === 1 && typeof opts.damage === 'object') labels[7] = opts.damage.label;
    for (let k = 0; k < (opts.channels ?? 1); k++)
      writeFileSync(path.join(root, 'imagesTr', `case${i}_000${k}.nii.gz`), img);
    writeFileSync(path.join(root, 'labelsTr', `case${i}.nii.gz`), writeNifti(labels, labelDims));
  }
  return root;
}
