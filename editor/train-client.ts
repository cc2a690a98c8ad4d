/**
 * The page's side of the training worker: a comlink proxy typed by the
 * worker's own class (editor/worker/api.ts), and the session's events
 * through a proxied callback. If the worker cannot start or dies, every call
 * in flight and every later one fails with a message saying so.
 */
import * as Comlink from 'comlink';
import type { SessionEvent, TrainWorker } from './worker/api.ts';

export class TrainClient {
  private readonly worker: Worker;
  /** The worker's API: each method returns a promise of what the worker's returns. */
  readonly api: Comlink.Remote<TrainWorker>;
  private readonly failed: Promise<never>;

  constructor(onEvent: (e: SessionEvent) => void) {
    this.worker = new Worker(new URL('./worker/train-worker.ts', import.meta.url), {
      type: 'module',
      name: 'mam-train',
    });
    this.failed = new Promise<never>((_, reject) => {
      this.worker.addEventListener('error', (e) =>
        reject(new Error(`the training worker failed: ${e.message || 'it could not start'}`)),
      );
    });
    this.failed.catch(() => {}); // observed by call(); no unhandled rejection when unused
    this.api = Comlink.wrap<TrainWorker>(this.worker);
    void this.call((api) => api.listen(Comlink.proxy(onEvent)));
  }

  /** One call to the worker, failing if the worker does. */
  call<R>(fn: (api: Comlink.Remote<TrainWorker>) => R): Promise<Awaited<R>> {
    return Promise.race([fn(this.api), this.failed]) as Promise<Awaited<R>>;
  }

  terminate(): void {
    this.api[Comlink.releaseProxy]();
    this.worker.terminate();
  }
}
