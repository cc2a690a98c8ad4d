/**
 * The run store of `mam train` in Node: a run folder holding `run.json`,
 * `history.csv`, `metrics.json`, `test-metrics.csv`, `checkpoint/`
 * (weights, optimizer state, state.json) and `best.safetensors`. This is the
 * format the PyTorch runtime writes too; keep it. Every file is written to a
 * temporary name and renamed into place, and the checkpoint folder is
 * swapped whole (src/train/checkpoint-fs.ts), so a reader never sees a
 * half-written run. A failed write is a SessionError naming it (exit 73).
 */
import * as path from 'node:path';
import {
  historyToCsv,
  resumeRefusal,
  type Checkpoint,
  type CheckpointStore,
} from '../train/checkpoint.ts';
import { FolderCheckpointStore, writeAtomic } from '../train/checkpoint-fs.ts';
import { EXIT_CODES, SessionError } from './errors.ts';
import { asOutput, makeOutputDir } from './node-files.ts';

export class RunFolder {
  private readonly checkpoints: FolderCheckpointStore;

  constructor(readonly dir: string) {
    this.checkpoints = new FolderCheckpointStore(dir);
  }

  /**
   * The folder's checkpoint, checked against what the user asked: resuming
   * needs one, a new run must not find one. Reads only.
   */
  async open(resume: boolean): Promise<Checkpoint | null> {
    const existing = await this.checkpoints.load();
    if (!existing.ok)
      throw new SessionError(
        `${this.dir}: the checkpoint cannot be read: ${existing.message}`,
        EXIT_CODES.runFolder,
      );
    if (resume && !existing.checkpoint)
      throw new SessionError(`${this.dir} holds no checkpoint to resume`, EXIT_CODES.runFolder);
    const refusal = existing.checkpoint && resumeRefusal(existing.checkpoint.state, this.dir);
    if (resume && refusal) throw new SessionError(refusal, EXIT_CODES.runFolder);
    if (!resume && existing.checkpoint)
      throw new SessionError(
        `${this.dir} already holds a run (checkpoint at step ${existing.checkpoint.state.step}); pass --resume to continue it or choose another --out`,
        EXIT_CODES.runFolder,
      );
    return existing.checkpoint;
  }

  /** Creates the folder (the first write of a run, after every check). */
  create(): Promise<void> {
    return makeOutputDir(this.dir, 'run folder');
  }

  /** A file of the run folder, written atomically. */
  writeFile(name: string, text: string): Promise<void> {
    const file = path.join(this.dir, name);
    return asOutput('', file, () => writeAtomic(file, text));
  }

  writeJson(name: string, value: unknown): Promise<void> {
    return this.writeFile(name, JSON.stringify(value, null, 2) + '\n');
  }

  /** The loop's checkpoint store: checkpoint/ and history.csv at each checkpoint, best.safetensors. */
  checkpointStore(classNames: readonly string[]): CheckpointStore {
    return {
      save: (c: Checkpoint) =>
        asOutput('checkpoint in', this.dir, async () => {
          const where = await this.checkpoints.save(c);
          await writeAtomic(
            path.join(this.dir, 'history.csv'),
            historyToCsv(c.state.history, classNames),
          );
          return where;
        }),
      saveBest: (w: Uint8Array) =>
        asOutput('best weights in', this.dir, () => this.checkpoints.saveBest(w)),
    };
  }

  get bestFile(): string {
    return path.join(this.dir, 'best.safetensors');
  }
}
