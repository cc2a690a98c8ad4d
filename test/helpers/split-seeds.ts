/** Data folders whose seeded split depends on the seed: for tests of the split seed on record. */
import { loadDataArg } from '../../src/cli/train-data.ts';

/** The case ids of `data`'s train and validation splits drawn with `seed` (as `mam train --seed` draws them). */
export async function splitIds(data: string, seed: number) {
  const d = await loadDataArg(data, seed);
  return { train: d.splits.train.map((c) => c.id), val: d.splits.val.map((c) => c.id) };
}

/** Seed 0's split of `data`, and the first seed after 0 whose own split differs from it (so a recorded split seed matters). */
export async function seedWithOtherSplit(data: string) {
  const split0 = await splitIds(data, 0);
  let seed = 1;
  while (JSON.stringify(await splitIds(data, seed)) === JSON.stringify(split0) && seed < 50) seed++;
  return { split0, seed, split: await splitIds(data, seed) };
}
