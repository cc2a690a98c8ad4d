/**
 * `--data <dir|demo|demo3d>` for train and eval: a demo set (2D slices, or
 * whole volumes for 3D graphs), or a folder in one of
 * the layouts src/data reads (Synapse npz/h5, PNG image+mask, NIfTI
 * imagesTr/labelsTr [+ imagesTs/labelsTs]), split into train/val/test, checked
 * against the graph's class table; each failure a SessionError with its own code.
 */
import { stat } from 'node:fs/promises';
import * as path from 'node:path';
import { loadDemo } from '../data/demo.ts';
import { demo3dDataDir, demoDataDir, nodeFileSource } from '../data/node-fs.ts';
import type { RunData } from '../session/folder-train.ts';
import { openDataFolder } from '../session/open-data.ts';
import { SessionError, EXIT_CODES } from './errors.ts';

export { checkClasses, dataErrorCode } from '../session/open-data.ts';

/** What `--data` loads: the session's run data. */
export type LoadedData = RunData;

async function isDir(p: string): Promise<boolean> {
  try {
    return (await stat(p)).isDirectory();
  } catch {
    return false;
  }
}

/**
 * Load `--data`. `seed` makes the validation split reproducible when the
 * folder has no split.json ({"train": [ids], "val": [ids], "test": [ids]}).
 */
export async function loadDataArg(arg: string, seed: number): Promise<LoadedData> {
  if (arg === 'demo' || arg === 'demo3d') {
    const volumes = arg === 'demo3d';
    const r = await loadDemo(nodeFileSource(volumes ? demo3dDataDir() : demoDataDir()));
    if (!r.ok) throw new SessionError(r.message, EXIT_CODES.badData);
    const d = r.value;
    return {
      kind: 'demo',
      source: `${arg} (data/${arg})`,
      classNames: d.classNames,
      splits: { train: [d.splits.train], val: [d.splits.val], test: [d.splits.test] },
      splitRule: d.meta.split_rule as string,
      note: d.note,
      // the 2D demo stacks slices of separate slabs; the 3D demo's volumes are whole
      layout: volumes ? 'volumes' : 'slices',
      warnings: [],
    };
  }
  const dir = path.resolve(arg);
  if (!(await isDir(dir)))
    throw new SessionError(
      `--data ${arg}: no such folder (give a data folder, 'demo' or 'demo3d')`,
      EXIT_CODES.unreadable,
    );
  return openDataFolder(nodeFileSource(dir), arg, seed);
}
