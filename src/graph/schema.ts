/** The structural schema of a graph file (version 1). Semantics (kinds, ports, params) are checked in validate.ts. */
import { en } from 'zod/locales';
import * as z from 'zod/mini';
import { GRAPH_FORMAT } from './types.ts';

// zod/mini (a tenth of zod's size in the editor's bundle) with zod's English messages.
z.config(en());

const id = z.string().check(z.minLength(1, 'must not be empty'));
const paramValue = z.union([z.number(), z.string(), z.boolean(), z.array(z.string())]);
const portRef = z.object({ node: id, port: id });

const nodeShape = {
  id,
  type: id,
  params: z.record(z.string(), paramValue),
  position: z.tuple([z.number(), z.number()]),
  label: z.optional(z.string()),
};
export const nodeSchema = z.object(nodeShape);
/** A node that may carry fields of a later version (kept as they are). */
export const looseNodeSchema = z.looseObject(nodeShape);

const linkShape = { from: portRef, to: portRef };
export const linkSchema = z.object(linkShape);
export const looseLinkSchema = z.looseObject(linkShape);

const count = z.number().check(z.int(), z.positive());
const lossWeight = z.number().check(z.nonnegative());
/** The loss terms' weights (graph metadata, and a run's settings). */
export const lossWeightsSchema = z
  .object({ ce: lossWeight, dice: lossWeight })
  .check(z.refine((w) => w.ce + w.dice > 0, 'the CE and Dice weights must not both be zero'));

const unit = z.number().check(z.gte(0), z.lte(1));
const triple = z.tuple([z.number(), z.number(), z.number()]);

/** A 3D crop augmentation (types.ts VolumeAugmentSpec). */
export const volumeAugmentSchema = z.discriminatedUnion('kind', [
  z.object({
    kind: z.literal('shift-intensity'),
    offsets: z.number().check(z.nonnegative()),
    prob: unit,
  }),
  z.object({ kind: z.literal('affine'), prob: unit, rotateRange: triple, scaleRange: triple }),
]);

/** Sliding windows (types.ts SlidingWindowSettings). */
export const slidingWindowSchema = z.object({
  overlap: z.number().check(z.gte(0), z.lt(1)),
  batchSize: z.number().check(z.int(), z.positive()),
});

export const metadataSchema = z.object({
  title: z.optional(z.string()),
  description: z.optional(z.string()),
  createdWith: z.optional(z.string()),
  dataset: z.optional(z.string()),
  tags: z.optional(z.array(z.string())),
  training: z.optional(
    z.object({
      epochs: z.optional(count),
      batchSize: z.optional(count),
      learningRate: z.optional(z.number().check(z.positive())),
      optimizer: z.optional(z.enum(['sgd', 'adamw'])),
      momentum: z.optional(z.number().check(z.gte(0), z.lt(1))),
      weightDecay: z.optional(z.number().check(z.nonnegative())),
      seed: z.optional(z.number().check(z.int())),
      metricConvention: z.optional(z.enum(['synapse', 'monai'])),
      augment: z.optional(
        z.union([z.boolean(), z.array(volumeAugmentSchema)], {
          error:
            "must be true, false or a list of 3D crop augmentations: {kind: 'shift-intensity', offsets, prob} or {kind: 'affine', prob, rotateRange: [i, j, k], scaleRange: [i, j, k]} (prob in [0, 1])",
        }),
      ),
      loss: z.optional(lossWeightsSchema),
      samplesPerVolume: z.optional(z.number().check(z.int(), z.positive())),
      slidingWindow: z.optional(
        z.object({
          validation: z.optional(slidingWindowSchema),
          test: z.optional(slidingWindowSchema),
        }),
      ),
    }),
  ),
});

/** Top level only; nodes and links are checked one by one so one bad entry does not sink the file. */
export const topSchema = z.object({
  format: z.literal(GRAPH_FORMAT),
  version: z.number().check(z.int(), z.nonnegative()),
  metadata: z.optional(metadataSchema),
  nodes: z.array(z.unknown()),
  links: z.array(z.unknown()),
});

/** A zod issue as a sentence with a JSON path. */
export function describeZodIssues(
  error: z.core.$ZodError,
  base: (string | number)[],
): { path: string; message: string }[] {
  return error.issues.map((iss) => {
    const path = jsonPath([...base, ...(iss.path as (string | number)[])]);
    return { path, message: `${path}: ${iss.message}` };
  });
}

export function jsonPath(parts: readonly (string | number)[]): string {
  return parts.reduce<string>(
    (acc, p) =>
      typeof p === 'number'
        ? `${acc}[${p}]`
        : /^[A-Za-z_$][\w$]*$/.test(p)
          ? `${acc}.${p}`
          : `${acc}[${JSON.stringify(p)}]`,
    '$',
  );
}
