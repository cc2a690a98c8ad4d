/** True in Node (and tsx, vitest); false in a browser page or worker. */
export function isNode(): boolean {
  return typeof process !== 'undefined' && typeof process.versions?.node === 'string';
}

/**
 * Imports a module by a name the bundler must not follow: Node-only modules
 * (`webgpu`, `node:fs`) stay out of the browser bundle this way.
 */
export function importUnbundled<T>(specifier: string): Promise<T> {
  return import(/* @vite-ignore */ specifier) as Promise<T>;
}
