/** The read-only `window.__mam` hook the tests (and the console) read the app's state through. */
import type { AreaPlugin } from 'rete-area-plugin';
import { saveGraph } from '../src/graph/save.ts';
import type { GraphDoc } from '../src/graph/types.ts';
import type { MamStudio, Schemes } from '../src/rete/index.ts';
import type { TrainPanel, TrainSummary } from './train-panel.ts';

/** Read-only handle for tests and the console: state, never actions. */
export interface MamTestHook {
  readonly doc: GraphDoc;
  readonly analysis: ReturnType<MamStudio['getAnalysis']>;
  readonly selected: string[];
  /** The selected link's key, if a link is selected. */
  readonly selectedLink: string | undefined;
  /** The canvas zoom factor. */
  readonly zoom: number;
  readonly canUndo: boolean;
  readonly undoDepth: number;
  saveText(): string;
  idle(): Promise<void>;
  /** The Train drawer's state: backend, weights summary, progress, evaluation. */
  readonly training: TrainSummary | undefined;
}

declare global {
  interface Window {
    __mam?: MamTestHook;
  }
}

/** The hook over a mounted plugin and its area. */
// eslint-disable-next-line @typescript-eslint/no-explicit-any
export function testHook(mam: MamStudio, area: AreaPlugin<Schemes, any>): MamTestHook {
  return {
    get doc() {
      return mam.store.doc;
    },
    get analysis() {
      return mam.getAnalysis();
    },
    get selected() {
      return mam.getSelected();
    },
    get selectedLink() {
      return mam.getSelectedLink();
    },
    get zoom() {
      return area.area.transform.k;
    },
    get canUndo() {
      return mam.store.canUndo;
    },
    get undoDepth() {
      return mam.store.undoDepth;
    },
    saveText: () => saveGraph(mam.store.doc),
    idle: () => mam.whenIdle(),
    get training() {
      return document.querySelector<TrainPanel>('mam-train-panel')?.summary;
    },
  };
}
