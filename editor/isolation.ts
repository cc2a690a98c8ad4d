// Makes the built app cross-origin isolated where the host cannot send the
// COOP/COEP headers itself: registers editor/public/coi-sw.js, which adds
// them to every response, and reloads the page once so they apply. Only in
// production builds: the dev server and `vite preview` send the headers.
// Without isolation (no service workers, e.g. a private window or plain http
// on a remote host) the app still works and the wasm backend says it runs on
// one thread.

const RELOADED = 'mam-studio:coi-reload';

/** Registers the isolation service worker if it is needed and can help; resolves when done. */
export async function isolateWithServiceWorker(): Promise<void> {
  if (globalThis.crossOriginIsolated || !('serviceWorker' in navigator)) return;
  if (!window.isSecureContext) return;
  const base = import.meta.env.BASE_URL;
  try {
    const registration = await navigator.serviceWorker.register(`${base}coi-sw.js`, {
      scope: base,
    });
    // Already controlled yet not isolated: the browser does not honour the
    // headers from a service worker, and another reload would not change that.
    if (navigator.serviceWorker.controller) return;
    if (sessionStorage.getItem(RELOADED)) return;
    await activated(registration);
    sessionStorage.setItem(RELOADED, '1');
    location.reload();
  } catch (e) {
    console.info(
      `mam-studio: no cross-origin isolation service worker (${String(e)}); wasm runs on one thread`,
    );
  }
}

function activated(registration: ServiceWorkerRegistration): Promise<void> {
  return new Promise((resolve) => {
    const worker = registration.installing ?? registration.waiting ?? registration.active;
    if (!worker || worker.state === 'activated') return resolve();
    worker.addEventListener('statechange', () => {
      if (worker.state === 'activated') resolve();
    });
  });
}
