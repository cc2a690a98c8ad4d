/** The tfjs backends mam-studio knows how to start. */
export const BACKEND_NAMES = ['webgpu', 'webgl', 'wasm', 'cpu'] as const;
export type BackendName = (typeof BACKEND_NAMES)[number];

/** What the user asks for: a backend by name, or `auto` to pick the fastest that works. */
export type BackendPreference = 'auto' | BackendName;

/** The backend actually running, and why it was chosen. */
export interface BackendInfo {
  /** The tfjs backend now active. */
  name: BackendName;
  /** The device in words, e.g. `google swiftshader (SwiftShader driver 5.0.0)` or `WebAssembly SIMD, 1 thread`. */
  adapterInfo: string;
  /**
   * True when the math runs on the CPU: the cpu and wasm backends, and a GPU API
   * emulated in software (SwiftShader, llvmpipe, lavapipe).
   */
  isSoftware: boolean;
  /** Set when the requested backend could not start and another was used instead. */
  fallbackFrom?: string;
  /** One or two sentences for the user: what runs, and what failed on the way. */
  message: string;
}

export interface InitBackendOptions {
  /**
   * Where the tfjs-backend-wasm `.wasm` files live: a URL prefix in the browser
   * (default `/tfjs-wasm/` on the page's origin), a directory in Node (default: the
   * package's own dist folder). Must end with `/`.
   */
  wasmPaths?: string;
  /**
   * Node only: the Vulkan ICD file Dawn should use. Default: the system driver
   * when a GPU device node exists, else Chromium's SwiftShader ICD.
   */
  vkIcdFilenames?: string;
  /**
   * wasm only: the number of threads of the threaded build, where it runs (a
   * cross-origin isolated page or worker, or Node, at most the logical cores
   * there). Default: in Node 1, in a page tfjs's, half the logical cores.
   * Fixed once the wasm backend has started.
   */
  threads?: number;
}

/** What a probe of a GPU API found, before any backend is started. */
export interface AdapterProbe {
  /** The device in words, or empty when none was found. */
  info: string;
  isSoftware: boolean;
  /** Why no adapter was found; absent when one was. */
  error?: string;
}
