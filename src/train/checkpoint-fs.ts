/**
 * The Node store for checkpoints (the one file in src/train that touches
 * node:fs): `<run>/checkpoint/{weights,optimizer}.safetensors + state.json`,
 * written to a temporary folder and renamed into place, so an interrupted
 * write leaves the previous checkpoint intact; best weights in `<run>/best.safetensors`.
 */
import { mkdir, readFile, rename, rm, writeFile } from 'node:fs/promises';
import * as path from 'node:path';
import {
  parseTrainState,
  type Checkpoint,
  type CheckpointStore,
  type TrainState,
} from './checkpoint.ts';

async function writeAtomic(file: string, bytes: Uint8Array | string): Promise<void> {
  const tmp = `${file}.tmp-${process.pid}`;
  await writeFile(tmp, bytes);
  await rename(tmp, file);
}

export class FolderCheckpointStore implements CheckpointStore {
  constructor(readonly runDir: string) {}

  get dir(): string {
    return path.join(this.runDir, 'checkpoint');
  }

  async save(c: Checkpoint): Promise<string> {
    await mkdir(this.runDir, { recursive: true });
    const tmp = path.join(this.runDir, `checkpoint.tmp-${process.pid}`);
    const old = path.join(this.runDir, 'checkpoint.old');
    await rm(tmp, { recursive: true, force: true });
    await mkdir(tmp);
    await writeFile(path.join(tmp, 'weights.safetensors'), c.weights);
    await writeFile(path.join(tmp, 'optimizer.safetensors'), c.optimizer);
    await writeFile(path.join(tmp, 'state.json'), JSON.stringify(c.state));
    await rm(old, { recursive: true, force: true });
    try {
      await rename(this.dir, old);
    } catch (e) {
      if ((e as NodeJS.ErrnoException).code !== 'ENOENT') throw e;
    }
    await rename(tmp, this.dir);
    await rm(old, { recursive: true, force: true });
    return this.dir;
  }

  async saveBest(weights: Uint8Array): Promise<string> {
    const file = path.join(this.runDir, 'best.safetensors');
    await writeAtomic(file, weights);
    return file;
  }

  /** The checkpoint (or, after a crash between two renames, the previous one); null when there is none. */
  async load(): Promise<
    { ok: true; checkpoint: Checkpoint | null } | { ok: false; message: string }
  > {
    for (const dir of [this.dir, path.join(this.runDir, 'checkpoint.old')]) {
      let text: string;
      try {
        text = await readFile(path.join(dir, 'state.json'), 'utf8');
      } catch {
        continue;
      }
      const parsed = parseTrainState(text);
      if (!parsed.ok)
        return { ok: false, message: `${path.join(dir, 'state.json')}: ${parsed.message}` };
      try {
        const weights = new Uint8Array(await readFile(path.join(dir, 'weights.safetensors')));
        const optimizer = new Uint8Array(await readFile(path.join(dir, 'optimizer.safetensors')));
        return { ok: true, checkpoint: { weights, optimizer, state: parsed.state as TrainState } };
      } catch (e) {
        return { ok: false, message: `${dir} is incomplete: ${(e as Error).message}` };
      }
    }
    return { ok: true, checkpoint: null };
  }
}

export { writeAtomic };
