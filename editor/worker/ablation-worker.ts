/**
 * The ablation queue in a worker of its own (so the Train panel's run is
 * untouched): the variants of the open graph (src/ablate/variants.ts), each
 * trained on the demo set with the same settings for every seed, one after
 * another through a fresh Session, then tested on the test split. Progress
 * and each run's loss curve go to the page as events; the result is the
 * paper's table (src/ablate/table.ts).
 */
import * as Comlink from 'comlink';
import { catalogue } from '../../nodes/index.ts';
import {
  buildTable,
  rowInputOf,
  type AblationTable,
  type SeedResult,
} from '../../src/ablate/table.ts';
import { deriveAblation, type VariantName } from '../../src/ablate/variants.ts';
import { kernels } from '../../src/compile/kernels/index.ts';
import { loadDemoFromUrl } from '../../src/data/demo.ts';
import { demoSessionData } from '../../src/session/demo-data.ts';
import type { GraphDoc } from '../../src/graph/types.ts';
import { MemoryRunStore } from '../../src/session/run-store.ts';
import { Session, type SessionEvent } from '../../src/session/session.ts';
import { panelDefaults } from '../../src/session/settings.ts';

export interface AblationPlan {
  variants: VariantName[];
  seeds: number;
  steps: number;
}

export type AblationProgress =
  | { type: 'run'; key: string; seed: number; index: number; total: number }
  | { type: 'step'; key: string; seed: number; step: number; totalSteps: number; loss: number }
  | { type: 'result'; key: string; seed: number; meanDice: number }
  | { type: 'table'; table: AblationTable };

export class AblationWorker {
  private stopped = false;
  private session: Session | undefined;

  stop(): void {
    this.stopped = true;
    this.session?.stop();
  }

  async run(
    doc: GraphDoc,
    plan: AblationPlan,
    demoUrl: string,
    onEvent: (e: AblationProgress) => void,
  ): Promise<AblationTable | null> {
    this.stopped = false;
    const derived = deriveAblation(
      doc,
      { variants: plan.variants, layouts: ['window'], merges: ['conv'], explicit: false },
      catalogue,
    );
    if ('error' in derived) throw new Error(derived.error);
    const demo = await loadDemoFromUrl(new URL(demoUrl, self.location.origin).href);
    if (!demo.ok) throw new Error(demo.message);
    const d = demo.value;
    const data = demoSessionData(d);
    const seeds = Array.from({ length: plan.seeds }, (_, i) => i);
    const results = new Map<string, SeedResult[]>(derived.rows.map((r) => [r.key, []]));
    const total = derived.rows.length * seeds.length;
    let index = 0;
    const table = () =>
      buildTable(
        derived.rows.map((r) => rowInputOf(r, results.get(r.key) ?? [])),
        {
          convention: 'synapse',
          seeds,
          classNames: d.classNames,
          note: d.note,
          settings: { engine: 'browser', data: 'demo', steps: plan.steps },
        },
      );
    for (const row of derived.rows) {
      for (const seed of seeds) {
        if (this.stopped) return null;
        onEvent({ type: 'run', key: row.key, seed, index: ++index, total });
        const graph: GraphDoc = {
          ...row.graph,
          metadata: {
            ...row.graph.metadata,
            training: { ...row.graph.metadata?.training, seed },
          },
        };
        const session = new Session({ catalogue, kernels, store: new MemoryRunStore() });
        this.session = session;
        try {
          await session.switchBackend('auto');
          const compiled = session.compile(graph);
          if (!compiled.ok) throw new Error(`${row.key}: ${compiled.errors[0]?.message}`);
          session.setData(data);
          const done = new Promise<string>((resolve) =>
            session.listen((e: SessionEvent) => {
              if (e.type === 'step')
                onEvent({
                  type: 'step',
                  key: row.key,
                  seed,
                  step: e.runStep,
                  totalSteps: e.totalSteps,
                  loss: e.loss,
                });
              if (e.type === 'done') resolve(e.reason);
            }),
          );
          session.train({ ...panelDefaults(graph), steps: plan.steps, seed }, false);
          const reason = await done;
          if (this.stopped || reason === 'aborted') return null;
          const r = await session.evaluate('test', 'synapse');
          results.get(row.key)?.push({
            seed,
            step: plan.steps,
            reason,
            meanDice: r.meanDice,
            meanHd95: r.meanHd95,
            perClass: Object.fromEntries(
              r.perClass.map((c) => [c.name, { dice: c.dice, hd95: c.hd95 }]),
            ),
          });
          onEvent({ type: 'result', key: row.key, seed, meanDice: r.meanDice });
          onEvent({ type: 'table', table: table() });
        } finally {
          session.dispose();
          this.session = undefined;
        }
      }
    }
    return table();
  }
}

Comlink.expose(new AblationWorker());
