/**
 * `mam export --torch <graph.json> --out <dir> [--weights w.safetensors]`: a
 * folder ready for the PyTorch runtime (python/, `mam_torch`) on a machine
 * with GPUs: the graph file, the weights in our format (any state dict that
 * fills the graph is accepted and renamed to the graph's keys), a launch
 * script (torchrun, DDP) and a README with the exact commands.
 */
import { chmod } from 'node:fs/promises';
import * as path from 'node:path';
import { saveWeights, weightFingerprint } from '../compile/weights.ts';
import { COMMON_FLAGS, type Parsed, type VerbSpec } from './args.ts';
import { SessionError, EXIT_CODES, makeOutputDir, writeOutput } from './errors.ts';
import { applyWeightsFile, compileGraphFile, readBytes, startBackend } from './load-model.ts';
import type { CliIO } from './main.ts';
import { torchExportFiles } from '../share/torch-export.ts';

export const EXPORT_SPEC = {
  verb: 'export',
  positionals: ['<graph.json>'],
  flags: {
    torch: {
      kind: 'boolean',
      help: 'for the PyTorch runtime (torchrun, DDP); the one target so far',
    },
    out: { kind: 'string', value: '<dir>', required: true, help: 'the folder to write' },
    weights: {
      kind: 'string',
      value: '<w.safetensors>',
      help: 'weights to start from: a mam-studio checkpoint or a PyTorch state dict',
    },
    'allow-partial': COMMON_FLAGS['allow-partial'],
  },
  summary:
    'write a folder that trains the graph with PyTorch DDP: graph, weights, launch script, README',
} as const satisfies VerbSpec;

export async function exportCommand(
  p: Parsed<typeof EXPORT_SPEC>,
  { print, log }: CliIO,
): Promise<number> {
  if (!p.flags.torch)
    throw new SessionError(
      'say what to export for: --torch (the PyTorch runtime; the one target so far)',
      EXIT_CODES.usage,
    );
  const graphPath = p.positionals[0];
  const out = p.flags.out as string;
  const text = await readBytes(graphPath, 'graph file');
  await startBackend('cpu', () => {});
  const { model, graph } = await compileGraphFile(graphPath);
  try {
    const weights = p.flags.weights;
    if (weights)
      await applyWeightsFile(model, weights, log, { allowPartial: p.flags['allow-partial'] });
    const files = torchExportFiles({
      graphText: new TextDecoder().decode(text),
      graphName: path.basename(graphPath),
      title: graph.metadata?.title ?? '',
      fingerprint: weightFingerprint(model),
      ...(weights ? { weights: saveWeights(model) } : {}),
    });
    await makeOutputDir(out, 'export folder');
    for (const f of files) {
      const file = path.join(out, f.name);
      await writeOutput(file, f.data, 'export file');
      if (f.executable)
        await chmod(file, 0o755).catch(() =>
          log(`note: ${file} could not be made executable; run it with bash`),
        );
    }
    print(
      `wrote ${out}: graph.json${weights ? ', weights.safetensors' : ''}, train.sh, README.md; train with: DATA=<dir|demo> ${path.join(out, 'train.sh')}`,
    );
    return EXIT_CODES.ok;
  } finally {
    model.dispose();
  }
}
