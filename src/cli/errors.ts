/**
 * The `mam` command's exit codes, each with one meaning (README "The `mam`
 * command" lists them), and the error the verbs throw to end with one. main.ts
 * turns a CliError into its one-line message and code; anything else is an
 * internal error (a stack only with --debug).
 */
import { mkdir, writeFile } from 'node:fs/promises';

export const EXIT_CODES = {
  ok: 0,
  graphErrors: 1,
  /** A file that cannot be read or parsed. */
  unreadable: 2,
  /** Weights that do not fit the graph (or fit only part of it, without --allow-partial). */
  badWeights: 3,
  badData: 4,
  backend: 5,
  /** No cases: an empty folder or list. */
  emptyData: 6,
  /** An image and its label (or channels) on different grids. */
  sizeMismatch: 7,
  /** Labels outside the class table, or a class table that does not fit the graph. */
  labelRange: 8,
  /** A run folder that cannot be used: a checkpoint without --resume, a broken checkpoint, other data. */
  runFolder: 9,
  /** Training stopped because the loss became NaN or infinite. */
  diverged: 10,
  /** A bad command line: unknown flag, bad value, missing argument (sysexits EX_USAGE). */
  usage: 64,
  /** A fault of mam itself (sysexits EX_SOFTWARE); --debug prints the stack. */
  internal: 70,
  /** An output file or folder that cannot be written (sysexits EX_CANTCREAT). */
  cannotWrite: 73,
  interrupted: 130,
} as const;

export type ExitCode = (typeof EXIT_CODES)[keyof typeof EXIT_CODES];

/** A failure the user can act on: a one-line message (naming the file, flag or node) and its exit code. */
export class CliError extends Error {
  constructor(
    message: string,
    readonly code: ExitCode,
  ) {
    super(message);
  }
}

const reason = (e: unknown) => {
  const code = (e as NodeJS.ErrnoException).code;
  if (code === 'ENOENT') return 'no such folder';
  if (code === 'ENOTDIR') return 'a part of the path is a file, not a folder';
  if (code === 'EACCES' || code === 'EPERM') return 'permission denied';
  if (code === 'EROFS') return 'read-only file system';
  if (code === 'ENOSPC') return 'no space left on the device';
  return (e as Error).message;
};

/** Write an output file; failure is a CliError naming it (exit 73). */
export async function writeOutput(
  file: string,
  bytes: Uint8Array | string,
  what: string,
): Promise<void> {
  try {
    await writeFile(file, bytes);
  } catch (e) {
    throw new CliError(`cannot write ${what} ${file}: ${reason(e)}`, EXIT_CODES.cannotWrite);
  }
}

/** Create an output folder; failure is a CliError naming it (exit 73). */
export async function makeOutputDir(dir: string, what: string): Promise<void> {
  try {
    await mkdir(dir, { recursive: true });
  } catch (e) {
    throw new CliError(`cannot create ${what} ${dir}: ${reason(e)}`, EXIT_CODES.cannotWrite);
  }
}

/** Wrap a write the verb does through another module (e.g. the checkpoint store). */
export async function asOutput<T>(what: string, where: string, work: () => Promise<T>): Promise<T> {
  try {
    return await work();
  } catch (e) {
    if (e instanceof CliError) throw e;
    if (
      typeof (e as NodeJS.ErrnoException).code === 'string' &&
      (e as NodeJS.ErrnoException).syscall
    )
      throw new CliError(
        `cannot write ${what ? `${what} ` : ''}${where}: ${reason(e)}`,
        EXIT_CODES.cannotWrite,
      );
    throw e;
  }
}
