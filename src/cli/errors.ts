/**
 * The `mam` command's errors: the session's one error type and exit codes
 * (src/session/errors.ts), and its Node output helpers (exit 73 naming the
 * file). main.ts turns a SessionError into its one-line message and code;
 * anything else is an internal error (a stack only with --debug).
 */
export { EXIT_CODES, SessionError, type ExitCode } from '../session/errors.ts';
export { asOutput, makeOutputDir, writeOutput } from '../session/node-files.ts';
