/**
 * The editor's run zip carries the run.json `mam train` writes for the same
 * run (issue 10): the same graph, data folder and settings trained once by
 * `mam train` (in-process) and once by the Session (the editor's worker), then
 * exported as a zip: every field is equal but the few that say where the run
 * lives (graph.file, the time) and the editor's own part. 2D (slices, resize
 * records) and 3D (crop, sampling, the data set's intensity range).
 */
import { mkdtempSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import * as path from 'node:path';
import { strFromU8, unzipSync } from 'fflate';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { catalogue } from '../../nodes/index.ts';
import { initBackend } from '../../src/backend/index.ts';
import { codeVersion } from '../../src/cli/train.ts';
import { kernels } from '../../src/compile/kernels/index.ts';
import type { KernelTable } from '../../src/compile/kernels/types.ts';
import { nodeFileSource } from '../../src/data/node-fs.ts';
import { loadGraph } from '../../src/graph/load.ts';
import { saveGraph } from '../../src/graph/save.ts';
import type { GraphDoc } from '../../src/graph/types.ts';
import { folderSessionData, summariseData } from '../../src/session/data-summary.ts';
import { openDataFolder } from '../../src/session/open-data.ts';
import { CURRENT_RUN, MemoryRunStore } from '../../src/session/run-store.ts';
import { runFolderFiles, runFromFolder } from '../../src/session/run-zip.ts';
import { Session } from '../../src/session/session.ts';
import { panelDefaults } from '../../src/session/settings.ts';
import { mamInProcess } from '../helpers/mam-cli.ts';
import { niftiFolder } from '../helpers/nifti-folder.ts';
import { kernels3d, tiny3dGraph } from '../helpers/tiny-3d.ts';
import { tinyGraph } from '../helpers/tiny-graph.ts';

let dir = '';
beforeAll(async () => {
  dir = mkdtempSync(path.join(tmpdir(), 'mam-run-json-'));
  await initBackend('wasm');
});
afterAll(() => rmSync(dir, { recursive: true, force: true }));

const SEED = 3;

/** The zip's run.json of a Session run of `doc` on the folder `data` (named `data` as --data names it). */
async function sessionRunJson(doc: GraphDoc, data: string, table: KernelTable) {
  const s = new Session({
    catalogue,
    kernels: table,
    store: new MemoryRunStore(),
    code: await codeVersion(),
  });
  await s.switchBackend('wasm');
  const c = s.compile(doc);
  if (!c.ok) throw new Error('the graph does not compile');
  const folder = await openDataFolder(nodeFileSource(data), data, SEED);
  const summary = summariseData(folder, data, SEED, {
    classNames: c.classNames,
    inputShape: c.inputShape,
  });
  s.setData(folderSessionData(folder, summary, c.classNames));
  await new Promise<void>((resolve, reject) => {
    s.listen((e) => {
      if (e.type === 'done' && e.reason === 'failed') reject(new Error(e.message));
      else if (e.type === 'done') resolve();
    });
    s.train({ ...panelDefaults(doc), steps: 2, batchSize: 2, valEvery: 1, seed: SEED }, false);
  });
  const zip = unzipSync((await s.exportRun(CURRENT_RUN)).bytes);
  const name = Object.keys(zip).find((p) => p.endsWith('/run.json'))!;
  s.dispose();
  return JSON.parse(strFromU8(zip[name])) as Record<string, unknown>;
}

/** What says where and when the run lives, and the editor's own part: the rest must agree. */
function comparable(run: Record<string, unknown>) {
  const { updated: _u, created: _c, editor: _e, graph, ...rest } = run;
  const { file: _f, ...g } = graph as Record<string, unknown>;
  return { ...rest, graph: g };
}

describe("the run zip's run.json is mam train's", () => {
  const cases = [
    { kind: '2D', doc: () => tinyGraph({ dropPath: 0 }), table: kernels, size: undefined },
    { kind: '3D', doc: () => tiny3dGraph(), table: kernels3d, size: undefined },
  ];
  for (const t of cases)
    it(`${t.kind}: the same fields and values for the same graph, data and settings`, async () => {
      const root = path.join(dir, t.kind);
      niftiFolder(root, { cases: 5 });
      // a range the 3D run records (and both runs apply under 'auto')
      const range = { a_min: 0, a_max: 2, b_min: 0, b_max: 1, clip: true };
      writeFileSync(path.join(root, 'dataset.json'), JSON.stringify({ intensity_range: range }));
      const graphFile = path.join(dir, `${t.kind}.json`);
      writeFileSync(graphFile, saveGraph(t.doc()));
      const loaded = loadGraph(readFileSync(graphFile, 'utf8'), catalogue);
      if (!loaded.ok) throw new Error('the graph does not load');

      const out = path.join(dir, `${t.kind}-cli`);
      const cli = await mamInProcess(
        [
          'train',
          graphFile,
          '--data',
          root,
          '--steps',
          '2',
          '--batch',
          '2',
          '--val-every',
          '1',
          '--seed',
          String(SEED),
          '--backend',
          'wasm',
          '--out',
          out,
        ],
        t.table,
      );
      expect(cli.code, cli.stderr).toBe(0);
      const want = JSON.parse(readFileSync(path.join(out, 'run.json'), 'utf8')) as Record<
        string,
        unknown
      >;
      const got = await sessionRunJson(loaded.graph, root, t.table);

      expect(comparable(got)).toEqual(comparable(want));
      // mam train's folder imported into the editor and exported again keeps its run.json
      const folderFiles = new Map(
        [
          'run.json',
          'checkpoint/state.json',
          'checkpoint/weights.safetensors',
          'checkpoint/optimizer.safetensors',
        ].map((f) => [f, new Uint8Array(readFileSync(path.join(out, f)))] as const),
      );
      const imported = runFromFolder(folderFiles, {
        source: 'cli-run',
        catalogue,
        open: {
          doc: loaded.graph,
          weightsFingerprint: (want.graph as { weightsFingerprint: string }).weightsFingerprint,
        },
      });
      const again = JSON.parse(strFromU8(runFolderFiles(imported).get('run.json')!));
      expect(comparable(again)).toEqual(comparable(want));
      expect((got.graph as { file: string }).file).toBe('graph.json');
      // by hand: 5 cases split by a seeded hash (20 % validation: 1 case), seed 3 everywhere
      const data = got.data as Record<string, unknown>;
      expect((data.split as { val: string[] }).val).toHaveLength(1);
      expect(data.splitRule).toBe(`seeded hash of case ids (seed ${SEED}), 20% validation`);
      expect(got.seeds).toMatchObject({ init: SEED, shuffle: SEED, augment: SEED, dropPath: SEED });
      // the split was drawn with the run's seed in both (mam train's --seed, the data panel's seed)
      expect(got.settings).toMatchObject({ seed: SEED, splitSeed: SEED });
      if (t.kind === '3D') {
        expect(data).toMatchObject({
          trainVolumes: 4,
          crop: [8, 8, 8],
          sampling: { volumesPerStep: 1, cropsPerVolume: 2, stepsPerEpoch: 4 },
          intensityRange: range,
        });
      } else {
        // 4 training cases × 4 slices of 16×16, the graph's input
        expect(data).toMatchObject({ trainSlices: 16, resize: { input: [16, 16], slices: [] } });
        expect(data.intensityRange).toBeUndefined();
      }
    }, 300_000);
});
