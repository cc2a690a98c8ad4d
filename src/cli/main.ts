/** The `mam` command: one verb per file in src/cli. */
import { inspectCommand } from './inspect.ts';
import { RUN_USAGE, runCommand } from './run.ts';
import { IMPORT_USAGE, importCommand } from './import.ts';
import { TRAIN_USAGE, trainCommand } from './train.ts';
import { EVAL_USAGE, evalCommand } from './eval.ts';
import { quietTfjsInNode } from '../backend/quiet.ts';

type Verb = (args: string[], print: (s: string) => void) => Promise<number>;

const verbs: Record<string, { run: Verb; help: string }> = {
  inspect: {
    run: inspectCommand,
    help: 'inspect <graph.json> [--json]   shapes, params, MACs, memory chains, errors',
  },
  run: { run: runCommand, help: `${RUN_USAGE}   forward pass (logits)` },
  import: { run: importCommand, help: `${IMPORT_USAGE}   PyTorch state dict → checkpoint` },
  train: { run: trainCommand, help: `${TRAIN_USAGE}   train, with checkpoints and --resume` },
  eval: { run: evalCommand, help: `${EVAL_USAGE}   Dice/HD95 per class` },
};

export function registerVerb(name: string, run: Verb, help: string): void {
  verbs[name] = { run, help };
}

export async function main(argv: string[]): Promise<number> {
  quietTfjsInNode();
  const [verb, ...rest] = argv;
  const print = (s: string) => process.stdout.write(s + '\n');
  if (!verb || verb === '--help' || verb === '-h' || verb === 'help') {
    print(
      `mam: build, train and evaluate memory-attention segmentation graphs\n\nusage:\n${Object.values(
        verbs,
      )
        .map((v) => `  mam ${v.help}`)
        .join('\n')}`,
    );
    return verb ? 0 : 2;
  }
  const v = verbs[verb];
  if (!v) {
    process.stderr.write(
      `mam: unknown command '${verb}' (try: ${Object.keys(verbs).join(', ')})\n`,
    );
    return 2;
  }
  return v.run(rest, print);
}
