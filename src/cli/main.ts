/** The `mam` command: one verb per file in src/cli; failures become one line and an exit code here. */
import { helpText, parseVerbArgs, usageLine, type Parsed, type VerbSpec } from './args.ts';
import { SessionError, EXIT_CODES } from './errors.ts';
import { exitLine, isWasmOutOfMemory } from '../backend/out-of-memory.ts';
import { ABLATE_SPEC, ablateCommand } from './ablate.ts';
import { MAPS_SPEC, mapsCommand } from './maps.ts';
import { EVAL_SPEC, evalCommand } from './eval.ts';
import { EXPORT_SPEC, exportCommand } from './export.ts';
import { IMPORT_SPEC, importCommand } from './import.ts';
import { INSPECT_SPEC, inspectCommand } from './inspect.ts';
import { RUN_SPEC, runCommand } from './run.ts';
import { TRAIN_SPEC, trainCommand } from './train.ts';
import { quietTfjsInNode } from '../backend/quiet.ts';
import type { KernelTable } from '../compile/kernels/types.ts';

/** Where a verb writes: results to stdout (print), messages and progress to stderr (log). */
export interface CliIO {
  print(s: string): void;
  log(s: string): void;
  /** A host's kernel table (an embedder with its own node kinds, a test); default: the built-in one. */
  kernels?: KernelTable;
}

export interface Verb<S extends VerbSpec = VerbSpec> {
  spec: S;
  run(p: Parsed<S>, io: CliIO): Promise<number>;
}

const verb = <S extends VerbSpec>(spec: S, run: Verb<S>['run']): Verb => ({
  spec,
  run: run as Verb['run'],
});

const verbs: Record<string, Verb> = {
  inspect: verb(INSPECT_SPEC, inspectCommand),
  run: verb(RUN_SPEC, runCommand),
  import: verb(IMPORT_SPEC, importCommand),
  train: verb(TRAIN_SPEC, trainCommand),
  eval: verb(EVAL_SPEC, evalCommand),
  export: verb(EXPORT_SPEC, exportCommand),
  ablate: verb(ABLATE_SPEC, ablateCommand),
  maps: verb(MAPS_SPEC, mapsCommand),
};

const processIO: CliIO = {
  print: (s) => process.stdout.write(s + '\n'),
  log: (s) => process.stderr.write(s + '\n'),
};

function overview(): string {
  return [
    'mam: build, train and evaluate memory-attention segmentation graphs',
    '',
    'usage:',
    ...Object.values(verbs).map((v) => `  mam ${usageLine(v.spec)}\n      ${v.spec.summary}`),
    '',
    "'mam <command> --help' describes a command's flags; --debug prints the stack of an internal error.",
  ].join('\n');
}

/** One line for a fault of mam itself (a stack only with --debug). */
function internalError(who: string, e: unknown, debug: boolean): string {
  const err = e instanceof Error ? e : new Error(String(e));
  const line = (err.message.split('\n')[0] || err.name).slice(0, 300);
  return (
    `${who}: internal error: ${line}` +
    (debug ? `\n${err.stack ?? ''}` : ' (run again with --debug for the stack)')
  );
}

/**
 * For bin/mam.js: an error that escapes main() (a rejection nobody awaited)
 * ends the process with the internal-error code and one line, not Node's
 * exit 1 (which means "graph errors" here) and a stack.
 */
export function guardProcess(argv: string[]): void {
  const debug = argv.includes('--debug');
  const fail = (e: unknown) => {
    processIO.log(
      isWasmOutOfMemory(e) ? `mam: ${exitLine(e, 'mam')}` : internalError('mam', e, debug),
    );
    process.exit(EXIT_CODES.internal);
  };
  process.on('uncaughtException', fail);
  process.on('unhandledRejection', fail);
}

export async function main(argv: string[], io: CliIO = processIO): Promise<number> {
  quietTfjsInNode();
  const debug = argv.includes('--debug');
  const [name, ...rest] = argv.filter((a) => a !== '--debug');
  if (name === '--help' || name === '-h' || name === 'help') {
    io.print(overview());
    return EXIT_CODES.ok;
  }
  const v = name === undefined ? undefined : verbs[name];
  if (!v) {
    io.log(
      name === undefined
        ? overview()
        : `mam: unknown command '${name}' (try: ${Object.keys(verbs).join(', ')}; 'mam --help' describes them)`,
    );
    return EXIT_CODES.usage;
  }
  try {
    const p = parseVerbArgs(v.spec, rest);
    if (!p) {
      io.print(helpText(v.spec));
      return EXIT_CODES.ok;
    }
    return await v.run(p, io);
  } catch (e) {
    if (e instanceof SessionError) {
      io.log(`mam ${name}: ${e.message}`);
      return e.code;
    }
    if (isWasmOutOfMemory(e)) {
      io.log(`mam ${name}: ${exitLine(e, 'mam')}`);
      return EXIT_CODES.backend;
    }
    io.log(internalError(`mam ${name}`, e, debug));
    return EXIT_CODES.internal;
  }
}
