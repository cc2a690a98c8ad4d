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
import { CliError, EXIT_CODES, makeOutputDir, writeOutput } from './errors.ts';
import { applyWeightsFile, compileGraphFile, readBytes, startBackend } from './load-model.ts';
import type { CliIO } from './main.ts';

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

const LAUNCH = `#!/usr/bin/env bash
# Trains graph.json with the mam-studio PyTorch runtime (DistributedDataParallel via torchrun).
# usage: ./train.sh [mam_torch.train flags …]   e.g. ./train.sh --epochs 150 --batch 24
# Environment: DATA (a data folder or 'demo'; default demo), OUT (the run folder; default
# runs/<time> beside this script), NPROC (processes; default: the GPU count, else 1),
# PYTHON (default python3). Any flag given here overrides the defaults.
set -euo pipefail
here="$(cd "$(dirname "$0")" && pwd)"
py="\${PYTHON:-python3}"
nproc="\${NPROC:-$("$py" -c 'import torch; print(max(1, torch.cuda.device_count()))')}"
out="\${OUT:-$here/runs/$(date +%Y%m%d-%H%M%S)}"
init=()
[ -f "$here/weights.safetensors" ] && init=(--init-weights "$here/weights.safetensors")
exec "$py" -m torch.distributed.run --standalone --nproc_per_node="$nproc" -m mam_torch.train \\
  "$here/graph.json" --data "\${DATA:-demo}" --out "$out" \${init[@]+"\${init[@]}"} "$@"
`;

function readme(graphFile: string, title: string, fingerprint: string, weights: boolean): string {
  return `# ${title || graphFile}: training with PyTorch

Written by \`mam export --torch\` from \`${graphFile}\` (weight fingerprint \`${fingerprint}\`).

- \`graph.json\`: the graph, as the editor saved it
${weights ? '- `weights.safetensors`: the weights training starts from (mam-studio format, PyTorch names)\n' : ''}- \`train.sh\`: the launch script (torchrun, DistributedDataParallel: NCCL on GPUs, gloo on the CPU)

## Set up (once)

\`\`\`sh
pip install torch                                   # the build for your CUDA
pip install "<mam-studio checkout>/python[data]"    # mam_torch, with nibabel, h5py, pillow, medpy
\`\`\`

## Train

\`\`\`sh
DATA=/path/to/data ./train.sh --epochs 150           # every GPU of this machine
NPROC=4 DATA=/path/to/data ./train.sh --batch 24     # 4 processes, global batch 24
DATA=/path/to/data ./train.sh --amp bf16             # bfloat16 autocast on GPUs
OUT=runs/x DATA=/path/to/data ./train.sh --resume    # continue an interrupted run
\`\`\`

or by hand, on several nodes with torchrun's own flags:

\`\`\`sh
torchrun --nnodes=2 --nproc_per_node=8 --rdzv-backend=c10d --rdzv-endpoint=HOST:29500 \\
  -m mam_torch.train graph.json --data /path/to/data --out runs/x${weights ? ' --init-weights weights.safetensors' : ''}
\`\`\`

\`--data\` takes what \`mam train\` takes: \`demo\` (from a mam-studio checkout), a NIfTI folder,
a PNG image + mask folder, or the Synapse layout. \`python -m mam_torch.train --help\` lists
every flag. Ctrl-C (or SIGTERM) stops after the current step with a valid checkpoint.

## Back to mam-studio

The run folder (\`checkpoint/\`, \`best.safetensors\`, \`history.csv\`, \`metrics.json\`,
\`run.json\`) has the format \`mam train\` writes:

\`\`\`sh
npx mam eval graph.json --weights runs/x/best.safetensors --data /path/to/data
\`\`\`

or open \`best.safetensors\` in the editor.
`;
}

export async function exportCommand(
  p: Parsed<typeof EXPORT_SPEC>,
  { print, log }: CliIO,
): Promise<number> {
  if (!p.flags.torch)
    throw new CliError(
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
    await makeOutputDir(out, 'export folder');
    await writeOutput(path.join(out, 'graph.json'), text, 'graph file');
    if (weights)
      await writeOutput(path.join(out, 'weights.safetensors'), saveWeights(model), 'weights file');
    const script = path.join(out, 'train.sh');
    await writeOutput(script, LAUNCH, 'launch script');
    try {
      await chmod(script, 0o755);
    } catch {
      log(`note: ${script} could not be made executable; run it with bash`);
    }
    const title = graph.metadata?.title ?? '';
    await writeOutput(
      path.join(out, 'README.md'),
      readme(path.basename(graphPath), title, weightFingerprint(model), Boolean(weights)),
      'README',
    );
    print(
      `wrote ${out}: graph.json${weights ? ', weights.safetensors' : ''}, train.sh, README.md; train with: DATA=<dir|demo> ${path.join(out, 'train.sh')}`,
    );
    return EXIT_CODES.ok;
  } finally {
    model.dispose();
  }
}
