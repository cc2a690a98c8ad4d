/** The embedded demo set (data/demo) as a session takes it: one case per split. */
import { DEMO_SPLITS, type DemoDataSet } from '../data/demo.ts';
import { caseSlices, dataFingerprint } from '../train/samples.ts';
import type { SessionData } from './session.ts';
import type { DataInfo } from './types.ts';

export function demoSessionData(demo: DemoDataSet): SessionData {
  const splits = {} as DataInfo['splits'];
  for (const s of DEMO_SPLITS) {
    const info = demo.meta.splits[s];
    splits[s] = { slices: info.slices, classesPresent: info.classes_present };
  }
  const train = caseSlices(demo.splits.train, 'auto');
  return {
    info: {
      source: 'demo: ch2 T1 brain, 8 classes (data/demo)',
      classNames: demo.classNames,
      note: demo.note,
      trainSlices: train.length,
      splits,
    },
    train,
    cases: { train: [demo.splits.train], val: [demo.splits.val], test: [demo.splits.test] },
    fingerprint: dataFingerprint(DEMO_SPLITS.map((s) => demo.splits[s])),
  };
}
