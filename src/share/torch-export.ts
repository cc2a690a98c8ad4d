/**
 * The files of an export for the PyTorch runtime (python/, `mam_torch`):
 * the graph file, the weights (optional), a launch script (torchrun, DDP)
 * and a README with the exact commands. `mam export --torch` writes them
 * to a folder, the editor's "Export for PyTorch" as one zip. Pure: no DOM,
 * no node:fs.
 */
import { strToU8, zipSync } from 'fflate';

export interface TorchExportInput {
  /** The graph file's text, as saved. */
  graphText: string;
  /** Where it came from, for the README. */
  graphName: string;
  title: string;
  /** The graph's weight fingerprint. */
  fingerprint: string;
  /** Our safetensors weights to start from, if any. */
  weights?: Uint8Array;
}

export interface ExportFile {
  name: string;
  data: Uint8Array;
  executable?: boolean;
}

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

/** The export's files, in the order they are listed. */
export function torchExportFiles(o: TorchExportInput): ExportFile[] {
  const weights = o.weights !== undefined;
  return [
    { name: 'graph.json', data: strToU8(o.graphText) },
    ...(o.weights ? [{ name: 'weights.safetensors', data: o.weights }] : []),
    { name: 'train.sh', data: strToU8(LAUNCH), executable: true },
    { name: 'README.md', data: strToU8(readme(o.graphName, o.title, o.fingerprint, weights)) },
  ];
}

/** The files in one zip under `folder/`, the launch script executable (Unix mode 755). */
export function torchExportZip(files: ExportFile[], folder: string): Uint8Array {
  const entries: Record<string, [Uint8Array, { os: number; attrs: number }]> = {};
  for (const f of files)
    entries[`${folder}/${f.name}`] = [
      f.data,
      { os: 3, attrs: (f.executable ? 0o100755 : 0o100644) << 16 },
    ];
  return zipSync(entries, { level: 6 });
}
