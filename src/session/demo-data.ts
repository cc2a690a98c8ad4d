/** An embedded demo set as a session takes it: one case per split (data/demo: 2D slices; data/demo3d: whole volumes). */
import { DEMO_SPLITS, type DemoDataSet } from '../data/demo.ts';
import { caseSlices, dataFingerprint } from '../train/samples.ts';
import { caseSummary } from './data-summary.ts';
import type { SessionData } from './session.ts';
import type { DataInfo } from './types.ts';

/** The embedded sets: data/demo (2D slices) and data/demo3d (volumes, for 3D graphs). */
export type DemoSet = 'demo' | 'demo3d';

export function demoSessionData(demo: DemoDataSet, which: DemoSet = 'demo'): SessionData {
  const splits = {} as DataInfo['splits'];
  for (const s of DEMO_SPLITS) {
    const info = demo.meta.splits[s];
    splits[s] = { slices: info.slices, classesPresent: info.classes_present };
  }
  const train = caseSlices(demo.splits.train, 'auto');
  return {
    info: {
      source:
        which === 'demo3d'
          ? 'demo3d: ch2 T1 brain volumes, 8 classes (data/demo3d)'
          : 'demo: ch2 T1 brain, 8 classes (data/demo)',
      classNames: demo.classNames,
      note: demo.note,
      trainSlices: train.length,
      splits,
      ...(which === 'demo3d' && {
        cases: DEMO_SPLITS.map((s) => caseSummary(demo.splits[s], s)),
      }),
    },
    train,
    cases: { train: [demo.splits.train], val: [demo.splits.val], test: [demo.splits.test] },
    fingerprint: dataFingerprint(DEMO_SPLITS.map((s) => demo.splits[s])),
    splitRule: demo.meta.split_rule as string,
    // the 2D demo stacks slices of separate slabs; the 3D demo's volumes are whole
    layout: which === 'demo3d' ? 'volumes' : 'slices',
  };
}
