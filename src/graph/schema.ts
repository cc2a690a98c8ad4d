/** The structural schema of a graph file (version 1). Semantics (kinds, ports, params) are checked in validate.ts. */
import { z } from 'zod';
import { GRAPH_FORMAT } from './types.ts';

const id = z.string().min(1, 'must not be empty');
const paramValue = z.union([z.number(), z.string(), z.boolean(), z.array(z.string())]);
const portRef = z.object({ node: id, port: id });

export const nodeSchema = z.object({
  id,
  type: id,
  params: z.record(z.string(), paramValue),
  position: z.tuple([z.number(), z.number()]),
  label: z.string().optional(),
});

export const linkSchema = z.object({ from: portRef, to: portRef });

export const metadataSchema = z.object({
  title: z.string().optional(),
  description: z.string().optional(),
  createdWith: z.string().optional(),
  dataset: z.string().optional(),
  tags: z.array(z.string()).optional(),
  training: z
    .object({
      epochs: z.number().int().positive().optional(),
      batchSize: z.number().int().positive().optional(),
      learningRate: z.number().positive().optional(),
      optimizer: z.enum(['sgd', 'adamw']).optional(),
      seed: z.number().int().optional(),
      metricConvention: z.enum(['synapse', 'monai']).optional(),
      augment: z.boolean().optional(),
    })
    .optional(),
});

/** Top level only; nodes and links are checked one by one so one bad entry does not sink the file. */
export const topSchema = z.object({
  format: z.literal(GRAPH_FORMAT),
  version: z.number().int().nonnegative(),
  metadata: metadataSchema.optional(),
  nodes: z.array(z.unknown()),
  links: z.array(z.unknown()),
});

/** A zod issue as a sentence with a JSON path. */
export function describeZodIssues(
  error: z.ZodError,
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
