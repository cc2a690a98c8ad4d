/**
 * `mam import <graph.json> <state.safetensors> --out <weights.safetensors> [--mirror-encoder] [--json]`:
 * a PyTorch state dict (a Swin-Unet checkpoint, or Swin-T ImageNet weights
 * with --mirror-encoder) becomes a mam-studio checkpoint for the graph, with a
 * report of every tensor matched, missing, unexpected or of the wrong shape.
 */
import { readSafetensors } from '../compile/io/safetensors.ts';
import { formatImportReport, importStateDict, saveWeights } from '../compile/weights.ts';
import type { Parsed, VerbSpec } from './args.ts';
import { SessionError, EXIT_CODES, writeOutput } from './errors.ts';
import { compileGraphFile, readBytes, startBackend } from './load-model.ts';
import type { CliIO } from './main.ts';

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
    try {
      file = readSafetensors(bytes);
    } catch (e) {
      throw new SessionError(
        `${statePath} is not a readable safetensors file: ${(e as Error).message} (convert a .pth with scripts/pth-to-safetensors.py)`,
        EXIT_CODES.badWeights,
      );
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
    print(
      p.flags.json
        ? JSON.stringify({ out, ...report }, null, 2)
        : `${formatImportReport(report)}\nwrote ${out}`,
    );
    return EXIT_CODES.ok;
  } finally {
    model.dispose();
  }
}
