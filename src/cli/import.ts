/**
 * `mam import <graph.json> <state.safetensors> --out <weights.safetensors> [--mirror-encoder] [--npz] [--json]`:
 * a PyTorch state dict (a Swin-Unet checkpoint, or Swin-T ImageNet weights
 * with --mirror-encoder) becomes a mam-studio checkpoint for the graph, with a
 * report of every tensor matched, missing, unexpected or of the wrong shape.
 * With --npz the file is the ImageNet-21k R50+ViT-B_16 .npz (spec §f).
 */
import { readSafetensors } from '../compile/io/safetensors.ts';
import { formatImportReport, importStateDict, saveWeights } from '../compile/weights.ts';
import type { Parsed, VerbSpec } from './args.ts';
import { SessionError, EXIT_CODES, writeOutput } from './errors.ts';
import { compileGraphFile, readBytes, startBackend } from './load-model.ts';
import type { CliIO } from './main.ts';
import type { CompiledModel } from '../compile/model.ts';
import { mapR50VitNpz, type NpzMapping } from '../compile/npz-r50-vit.ts';
import { parseNpz } from '../data/npy.ts';

/** The npz mapped to the graph's names, or a one-line error naming the file. */
function readR50VitNpz(bytes: Uint8Array, path: string, model: CompiledModel): NpzMapping {
  const arrays = parseNpz(bytes, path);
  if (!arrays.ok) throw new SessionError(arrays.message, EXIT_CODES.badWeights);
  const pos = [...model.weights.values()].find((w) => w.spec.name === 'position_embeddings');
  if (!pos)
    throw new SessionError(
      `--npz maps R50+ViT-B_16 onto DA-TransUNet / TransUNet graphs, but this graph has no position_embeddings`,
      EXIT_CODES.badWeights,
    );
  try {
    return mapR50VitNpz(arrays.value, pos.spec.shape[1]);
  } catch (e) {
    throw new SessionError(`${path}: ${(e as Error).message}`, EXIT_CODES.badWeights);
  }
}

export const IMPORT_SPEC = {
  verb: 'import',
  positionals: ['<graph.json>', '<state.safetensors>'],
  flags: {
    out: {
      kind: 'string',
      value: '<weights.safetensors>',
      required: true,
      help: 'the checkpoint to write',
    },
    'mirror-encoder': {
      kind: 'boolean',
      help: 'also fill decoder stage layers_up.(n−1−i) from encoder stage i (Swin-T ImageNet weights)',
    },
    stages: {
      kind: 'int',
      value: '<N>',
      min: 1,
      help: 'encoder stages for the mirror (default 4)',
    },
    npz: {
      kind: 'boolean',
      help: 'the file is the ImageNet-21k R50+ViT-B_16 .npz (JAX names), mapped onto DA-TransUNet / TransUNet as DA-TRANSUNET-MAM-SPEC.md §f',
    },
    json: { kind: 'boolean', help: 'the report as JSON' },
  },
  summary: 'PyTorch state dict → checkpoint of the graph, with a report of every tensor',
} as const satisfies VerbSpec;

export async function importCommand(
  p: Parsed<typeof IMPORT_SPEC>,
  { print }: CliIO,
): Promise<number> {
  const [graphPath, statePath] = p.positionals;
  const out = p.flags.out as string;
  await startBackend('cpu', () => {}); // only copies tensors: no backend speed needed
  const { model } = await compileGraphFile(graphPath);
  try {
    const bytes = await readBytes(statePath, 'state dict');
    let file;
    let npz: NpzMapping | undefined;
    if (p.flags.npz) {
      npz = readR50VitNpz(bytes, statePath, model);
      file = npz.file;
    } else {
      try {
        file = readSafetensors(bytes);
      } catch (e) {
        throw new SessionError(
          `${statePath} is not a readable safetensors file: ${(e as Error).message} (convert a .pth with scripts/pth-to-safetensors.py${statePath.endsWith('.npz') ? '; an R50+ViT-B_16 .npz needs --npz' : ''})`,
          EXIT_CODES.badWeights,
        );
      }
    }
    const report = importStateDict(model, file, {
      mirrorEncoder: p.flags['mirror-encoder'],
      stages: p.flags.stages ?? 4,
    });
    if (report.matched.length === 0) {
      throw new SessionError(
        `${statePath}: no tensor matched a weight of ${graphPath}\n${formatImportReport(report)}`,
        EXIT_CODES.badWeights,
      );
    }
    await writeOutput(
      out,
      saveWeights(model, { metadata: { importedFrom: statePath } }),
      'checkpoint',
    );
    const npzLines = npz
      ? [
          `npz entries ignored as the reference's loader ignores them: ${npz.ignored.length} (${npz.ignored.join(', ')})`,
          ...npz.unknown.map((k) => `  unknown     ${k}`),
        ]
      : [];
    print(
      p.flags.json
        ? JSON.stringify(
            {
              out,
              ...report,
              ...(npz ? { npzIgnored: npz.ignored, npzUnknown: npz.unknown } : {}),
            },
            null,
            2,
          )
        : [formatImportReport(report), ...npzLines, `wrote ${out}`].join('\n'),
    );
    return EXIT_CODES.ok;
  } finally {
    model.dispose();
  }
}
