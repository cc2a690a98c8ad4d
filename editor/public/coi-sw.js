/* global self, fetch, Headers, Response */
// mam-studio's cross-origin isolation service worker, for hosts that cannot
// send headers (GitHub Pages and the like). WebAssembly threads need a
// cross-origin isolated page (SharedArrayBuffer), and that takes two response
// headers: COOP `same-origin` and COEP. This worker adds them to every
// same-origin response it serves, so the page is isolated from its next load
// on (editor/isolation.ts registers it and reloads once). Cross-origin
// requests pass untouched; under COEP `require-corp` they load only if their
// server allows it (CORS or CORP), and the app makes none.
//
// Where the server already sends the headers this worker is never registered.
// Delete this file from dist/ to turn the fallback off: the page then stays
// non-isolated and the wasm backend runs single-threaded.

self.addEventListener('install', () => self.skipWaiting());
self.addEventListener('activate', (event) => event.waitUntil(self.clients.claim()));

self.addEventListener('fetch', (event) => {
  const request = event.request;
  if (new URL(request.url).origin !== self.location.origin) return;
  // A request for the cache only may not be refetched from another mode.
  if (request.cache === 'only-if-cached' && request.mode !== 'same-origin') return;
  event.respondWith(fetch(request).then(isolated));
});

/** The response with the two isolation headers added; opaque responses cannot be copied. */
function isolated(response) {
  if (response.status === 0) return response;
  const headers = new Headers(response.headers);
  headers.set('Cross-Origin-Opener-Policy', 'same-origin');
  headers.set('Cross-Origin-Embedder-Policy', 'require-corp');
  return new Response(response.body, {
    status: response.status,
    statusText: response.statusText,
    headers,
  });
}
