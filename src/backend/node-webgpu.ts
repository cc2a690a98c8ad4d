// Node has no WebGPU of its own: the npm package `webgpu` (Dawn) provides
// navigator.gpu. Dawn goes through the system Vulkan loader; without a GPU the
// one driver that works is Chromium's SwiftShader ICD (Debian's lavapipe lacks
// a feature Dawn needs).
import { importUnbundled } from './environment.ts';

type WebGpuModule = typeof import('webgpu');
type FsModule = typeof import('node:fs');

const SWIFTSHADER_ICD = '/usr/lib/chromium/vk_swiftshader_icd.json';

let installed: Promise<GPU> | undefined;

/**
 * Puts Dawn's `navigator.gpu` and the WebGPU globals (GPUBufferUsage, …) on
 * globalThis, once per process. Rejects with a readable error when the
 * package or its native binary cannot load.
 */
export function installNodeWebGpu(vkIcdFilenames?: string): Promise<GPU> {
  installed ??= install(vkIcdFilenames);
  return installed;
}

async function install(vkIcdFilenames?: string): Promise<GPU> {
  const fs = await importUnbundled<FsModule>('node:fs');
  let webgpu: WebGpuModule;
  try {
    webgpu = await importUnbundled<WebGpuModule>('webgpu');
  } catch (e) {
    throw new Error(`the npm package "webgpu" (Dawn for Node) did not load: ${errorText(e)}`, {
      cause: e,
    });
  }
  Object.assign(globalThis, webgpu.globals);

  const userChoseDriver = Boolean(
    vkIcdFilenames || process.env.VK_ICD_FILENAMES || process.env.VK_DRIVER_FILES,
  );
  if (vkIcdFilenames) process.env.VK_ICD_FILENAMES = vkIcdFilenames;
  const canUseSwiftShader = !userChoseDriver && fs.existsSync(SWIFTSHADER_ICD);
  let gpu: GPU;
  if (canUseSwiftShader && !hasGpuDevice(fs)) {
    // No GPU here: go straight to SwiftShader rather than letting Dawn probe
    // (and warn about) every installed Mesa driver first.
    process.env.VK_ICD_FILENAMES = SWIFTSHADER_ICD;
    gpu = webgpu.create([]);
  } else {
    gpu = webgpu.create([]);
    // A GPU device exists but its driver may not suit Dawn. The Vulkan loader
    // rereads the variable when Dawn makes a new instance.
    if (canUseSwiftShader && !(await gpu.requestAdapter())) {
      process.env.VK_ICD_FILENAMES = SWIFTSHADER_ICD;
      gpu = webgpu.create([]);
    }
  }
  setNavigatorGpu(gpu);
  return gpu;
}

function hasGpuDevice(fs: FsModule): boolean {
  try {
    if (fs.readdirSync('/dev/dri').some((n) => n.startsWith('renderD'))) return true;
  } catch {
    // no /dev/dri
  }
  return fs.existsSync('/dev/nvidia0') || fs.existsSync('/dev/dxg');
}

function setNavigatorGpu(gpu: GPU): void {
  const g = globalThis as { navigator?: object };
  // Node 20 has no navigator; Node 21+ has one without `gpu`.
  if (g.navigator === undefined) {
    Object.defineProperty(globalThis, 'navigator', {
      value: {},
      writable: true,
      configurable: true,
    });
  }
  Object.defineProperty(g.navigator, 'gpu', { value: gpu, configurable: true, writable: true });
}

export function errorText(e: unknown): string {
  return e instanceof Error ? e.message : String(e);
}
