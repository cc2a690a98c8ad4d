/**
 * The page's side of the training worker: typed requests that resolve with
 * the worker's reply, and a listener for training events.
 */
import type { BackendInfo } from '../src/backend/types.ts';
import type {
  CompileReply,
  DataInfo,
  EvalResult,
  ImportReply,
  Preview,
  RestoreReply,
  TrainEventMessage,
  TrainRequest,
  WeightsSummary,
  WorkerMessage,
} from './worker/protocol.ts';

export interface StartReply {
  totalSteps: number;
  resumed: boolean;
  learningRate: number;
  valEvery: number;
}

/** The reply type of each request. */
export interface Replies {
  init: BackendInfo;
  compile: CompileReply;
  'load-data': DataInfo;
  train: StartReply;
  stop: boolean;
  evaluate: EvalResult;
  predict: Preview;
  'export-weights': Uint8Array;
  'import-weights': ImportReply;
  reinitialise: WeightsSummary;
  restore: RestoreReply;
}

export class TrainClient {
  private readonly worker: Worker;
  private nextId = 1;
  private readonly pending = new Map<
    number,
    { resolve: (v: unknown) => void; reject: (e: Error) => void }
  >();
  private readonly listeners = new Set<(e: TrainEventMessage) => void>();

  constructor() {
    this.worker = new Worker(new URL('./worker/train-worker.ts', import.meta.url), {
      type: 'module',
      name: 'mam-train',
    });
    this.worker.addEventListener('message', (e: MessageEvent<WorkerMessage>) =>
      this.receive(e.data),
    );
    this.worker.addEventListener('error', (e) => {
      const err = new Error(`the training worker failed: ${e.message || 'it could not start'}`);
      for (const p of this.pending.values()) p.reject(err);
      this.pending.clear();
    });
  }

  request<T extends TrainRequest>(
    req: T,
    transfer: Transferable[] = [],
  ): Promise<Replies[T['type']]> {
    const id = this.nextId++;
    return new Promise((resolve, reject) => {
      this.pending.set(id, { resolve: resolve as (v: unknown) => void, reject });
      this.worker.postMessage({ id, request: req }, transfer);
    });
  }

  onEvent(fn: (e: TrainEventMessage) => void): () => void {
    this.listeners.add(fn);
    return () => this.listeners.delete(fn);
  }

  terminate(): void {
    this.worker.terminate();
  }

  private receive(m: WorkerMessage) {
    if (m.kind === 'event') {
      for (const fn of this.listeners) fn(m.event);
      return;
    }
    const p = this.pending.get(m.id);
    if (!p) return;
    this.pending.delete(m.id);
    if (m.ok) p.resolve(m.value);
    else p.reject(new Error(m.message));
  }
}
