/**
 * `mam import <graph.json> <state.safetensors> --out <weights.safetensors> [--mirror-encoder] [--json]`:
 * a PyTorch state dict (a Swin-Unet checkpoint, or Swin-T ImageNet weights
 * with --mirror-encoder) becomes a mam-studio checkpoint for the graph, with a
 * report of every tensor matched, missing, unexpected or of the wrong shape.
 */
import { writeFile } from 'node:fs/promises';
import { initBackend } from '../backend/index.ts';
import { readSafetensors } from '../compile/io/safetensors.ts';
import { formatImportReport, importStateDict, saveWeights } from '../compile/weights.ts';
import { flag, parseArgs } from './args.ts';
import { CliError, EXIT_CODES, compileGraphFile, readBytes } from './load-model.ts';

export const IMPORT_USAGE =
  'import <graph.json> <state.safetensors> --out <weights.safetensors> [--mirror-encoder] [--stages N] [--json]';

export async function importCommand(args: string[], print: (s: string) => void): Promise<number> {
  const p = parseArgs(args, ['mirror-encoder', 'json']);
  const [graphPath, statePath] = p.positional;
  const out = flag(p, 'out');
  if (!graphPath || !statePath || !out) {
    print(`usage: mam ${IMPORT_USAGE}`);
    return EXIT_CODES.unreadable;
  }
  try {
    await initBackend('cpu'); // only copies tensors: no backend speed needed
    const { model } = await compileGraphFile(graphPath);
    const bytes = await readBytes(statePath, 'state dict');
    let file;
    try {
      file = readSafetensors(bytes);
    } catch (e) {
      throw new CliError(
        `${statePath} is not a readable safetensors file: ${(e as Error).message} (convert a .pth with scripts/pth-to-safetensors.py)`,
        EXIT_CODES.badWeights,
      );
    }
    const mirror = p.flags.has('mirror-encoder');
    const report = importStateDict(model, file, {
      mirrorEncoder: mirror,
      stages: Number(flag(p, 'stages') ?? 4),
    });
    if (report.matched.length === 0) {
      throw new CliError(
        `${statePath}: no tensor matched a weight of ${graphPath}\n${formatImportReport(report)}`,
        EXIT_CODES.badWeights,
      );
    }
    await writeFile(out, saveWeights(model, { metadata: { importedFrom: statePath } }));
    print(
      p.flags.has('json')
        ? JSON.stringify({ out, ...report }, null, 2)
        : `${formatImportReport(report)}\nwrote ${out}`,
    );
    model.dispose();
    return 0;
  } catch (e) {
    if (e instanceof CliError) {
      process.stderr.write(`mam import: ${e.message}\n`);
      return e.code;
    }
    throw e;
  }
}
