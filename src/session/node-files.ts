/**
 * Writing a session's outputs in Node (run folders, checkpoints, logits):
 * each failure a SessionError naming the file or folder and why (exit 73).
 */
import { mkdir, writeFile } from 'node:fs/promises';
import { EXIT_CODES, SessionError } from './errors.ts';

const reason = (e: unknown) => {
  const code = (e as NodeJS.ErrnoException).code;
  if (code === 'ENOENT') return 'no such folder';
  if (code === 'ENOTDIR') return 'a part of the path is a file, not a folder';
  if (code === 'EACCES' || code === 'EPERM') return 'permission denied';
  if (code === 'EROFS') return 'read-only file system';
  if (code === 'ENOSPC') return 'no space left on the device';
  return (e as Error).message;
};

/** Write an output file; failure is a SessionError naming it (exit 73). */
export async function writeOutput(
  file: string,
  bytes: Uint8Array | string,
  what: string,
): Promise<void> {
  try {
    await writeFile(file, bytes);
  } catch (e) {
    throw new SessionError(`cannot write ${what} ${file}: ${reason(e)}`, EXIT_CODES.cannotWrite);
  }
}

/** Create an output folder; failure is a SessionError naming it (exit 73). */
export async function makeOutputDir(dir: string, what: string): Promise<void> {
  try {
    await mkdir(dir, { recursive: true });
  } catch (e) {
    throw new SessionError(`cannot create ${what} ${dir}: ${reason(e)}`, EXIT_CODES.cannotWrite);
  }
}

/** Wrap a write the verb does through another module (e.g. the checkpoint store). */
export async function asOutput<T>(what: string, where: string, work: () => Promise<T>): Promise<T> {
  try {
    return await work();
  } catch (e) {
    if (e instanceof SessionError) throw e;
    if (
      typeof (e as NodeJS.ErrnoException).code === 'string' &&
      (e as NodeJS.ErrnoException).syscall
    )
      throw new SessionError(
        `cannot write ${what ? `${what} ` : ''}${where}: ${reason(e)}`,
        EXIT_CODES.cannotWrite,
      );
    throw e;
  }
}
