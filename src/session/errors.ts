/**
 * The session's one error type: a failure the user can act on, with a
 * one-line message (naming the file, flag or node) and the exit code the
 * `mam` command ends with (README "The `mam` command" lists them). The CLI
 * prints it and exits with its code; the editor's worker shows its message on
 * the Train panel. Callers tell failures apart by `code`, never by the text.
 * Anything else thrown is an internal error (a bug).
 */

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

/** A failure the user can act on: a one-line message and its exit code. */
export class SessionError extends Error {
  constructor(
    message: string,
    readonly code: ExitCode,
  ) {
    super(message);
    this.name = 'SessionError';
  }
}

/** The exit code of anything thrown: a SessionError's own, else internal. */
export const exitCodeOf = (e: unknown): ExitCode =>
  e instanceof SessionError ? e.code : EXIT_CODES.internal;
