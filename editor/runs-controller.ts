/**
 * The runs list's controller: asks the worker for the runs kept, and turns
 * the list's events into worker calls (open, rename, delete, export as a
 * zip, import a zip or run folder, compare). It runs every call through the
 * Train panel's queue (one worker request at a time) and reports the outcome
 * on the panel's notice; opening a run of another graph opens that graph in
 * the editor, whose compile then restores the run. Deleting the last run
 * that names a data source forgets that source's kept folder handle.
 */
import type { GraphDoc } from '../src/graph/types.ts';
import { download } from './files.ts';
import { forgetFolder } from './folder-handles.ts';
import { openRunHint } from './run-hints.ts';
import type { TrainClient } from './train-client.ts';
import type { Notice } from './train-notice.ts';
import type { PickedFile, RestoreReply, RunDetails, RunSummary } from './worker/api.ts';

/** What the controller needs of the Train panel. */
export interface RunsHost {
  run<T>(what: string, fn: (c: TrainClient) => Promise<T>): Promise<T | undefined>;
  /** A run opened in the session: shown as a restored one (or its graph waited for). */
  opened(graph: GraphDoc, reply: RestoreReply, name: string): void;
  say(notice: Notice): void;
  requestUpdate(): void;
}

/** The kept folder handles (folder-handles.ts), as far as deleting runs needs them. */
export interface KeptFolders {
  forget(source: string): Promise<void>;
}

export class RunsController {
  runs: RunSummary[] = [];
  /** The runs being compared, while the compare view is open. */
  compare: RunDetails[] | undefined;

  constructor(
    private readonly host: RunsHost,
    private readonly folders: KeptFolders = { forget: forgetFolder },
  ) {}

  private nameOf(id: string) {
    return this.runs.find((r) => r.id === id)?.name ?? id;
  }

  async refresh(): Promise<void> {
    await this.host.run('listing the runs', async (c) => {
      this.runs = await c.call((w) => w.listRuns());
      this.host.requestUpdate();
    });
  }

  async open(id: string): Promise<void> {
    const name = this.nameOf(id);
    await this.host.run(`opening the run ${name}`, async (c) => {
      const r = await c.call((w) => w.openRun(id));
      this.host.opened(r.graph, r.reply, name);
    });
    await this.refresh();
  }

  async rename(id: string, name: string): Promise<void> {
    await this.host.run('renaming the run', (c) => c.call((w) => w.renameRun(id, name)));
    await this.refresh();
  }

  async delete(id: string): Promise<void> {
    const name = this.nameOf(id);
    const source = this.runs.find((r) => r.id === id)?.dataSource;
    const done = await this.host.run(`deleting the run ${name}`, async (c) => {
      await c.call((w) => w.deleteRun(id));
      return true;
    });
    if (done) this.host.say({ level: 'info', text: `Deleted the run ${name}.` });
    await this.refresh();
    // A list that could not be read again still shows the deleted run, so the folder stays.
    if (done && source && !this.runs.some((r) => r.dataSource === source))
      await this.folders.forget(source);
  }

  async export(id: string): Promise<void> {
    await this.host.run('exporting the run', async (c) => {
      const z = await c.call((w) => w.exportRun(id));
      download(z.name, new Blob([z.bytes as BlobPart]));
      this.host.say({
        level: 'info',
        text: `Exported ${z.name} (${z.bytes.length.toLocaleString('en-US')} bytes): the run folder as mam train writes it, with graph.json.`,
      });
    });
  }

  async import(files: PickedFile[]): Promise<void> {
    await this.host.run('importing the run', async (c) => {
      const s = await c.call((w) => w.importRun(files));
      this.host.say({
        level: 'info',
        text: `Imported the run ${s.name} (${s.steps} steps): ${openRunHint(s)}.`,
      });
    });
    await this.refresh();
  }

  async compareRuns(ids: string[]): Promise<void> {
    await this.host.run(`comparing ${ids.length} runs`, async (c) => {
      this.compare = await c.call((w) => w.compareRuns(ids));
      this.host.requestUpdate();
    });
  }

  close(): void {
    this.compare = undefined;
    this.host.requestUpdate();
  }
}
