/** The kernel table of the built-in node kinds, by type id. */
import { cnnKernels } from './cnn.ts';
import { daKernels } from './da.ts';
import { tokenKernels } from './tokens.ts';
import { transformerKernels } from './transformer.ts';
import type { KernelTable } from './types.ts';
import { vol3dCnnKernels } from './vol3d-cnn.ts';
import { vol3dSwinKernels } from './vol3d-swin.ts';

export type { ForwardContext, Kernel, KernelTable } from './types.ts';

export const kernels: KernelTable = new Map(
  Object.entries({
    ...tokenKernels,
    ...transformerKernels,
    ...cnnKernels,
    ...daKernels,
    ...vol3dCnnKernels,
    ...vol3dSwinKernels,
  }),
);
