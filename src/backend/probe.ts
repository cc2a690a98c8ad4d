// Looks at what the GPU APIs offer before a tfjs backend is started, so that
// `auto` can tell a real GPU from a software one.
import { isNode } from './environment.ts';
import { errorText, installNodeWebGpu } from './node-webgpu.ts';
import { describeAdapter, isSoftwareAdapter, isSoftwareRenderer } from './software.ts';
import type { AdapterProbe } from './types.ts';

/** Finds the WebGPU adapter tfjs would get (installing Dawn first in Node). */
export async function probeWebGpu(vkIcdFilenames?: string): Promise<AdapterProbe> {
  try {
    const gpu = isNode() ? await installNodeWebGpu(vkIcdFilenames) : browserGpu();
    if (!gpu) return none('this browser has no WebGPU (navigator.gpu is missing)');
    const adapter = await gpu.requestAdapter({ powerPreference: 'high-performance' });
    if (!adapter) return none('WebGPU is present but offers no adapter');
    return {
      info: describeAdapter(adapter.info ?? {}),
      isSoftware: isSoftwareAdapter(adapter.info ?? {}),
    };
  } catch (e) {
    return none(`WebGPU failed: ${errorText(e)}`);
  }
}

function browserGpu(): GPU | undefined {
  return typeof navigator === 'undefined' ? undefined : navigator.gpu;
}

/** Finds the WebGL2 renderer in a browser page or worker; none in Node. */
export function probeWebGl(): AdapterProbe {
  if (isNode()) return none('WebGL exists only in a browser');
  if (typeof OffscreenCanvas === 'undefined') return none('this browser has no OffscreenCanvas');
  try {
    const gl = new OffscreenCanvas(1, 1).getContext('webgl2');
    if (!gl) return none('this browser offers no WebGL2 context');
    const debug = gl.getExtension('WEBGL_debug_renderer_info');
    const renderer = String(
      gl.getParameter(debug ? debug.UNMASKED_RENDERER_WEBGL : gl.RENDERER) ?? 'WebGL2',
    );
    gl.getExtension('WEBGL_lose_context')?.loseContext();
    return { info: renderer, isSoftware: isSoftwareRenderer(renderer) };
  } catch (e) {
    return none(`WebGL failed: ${errorText(e)}`);
  }
}

function none(error: string): AdapterProbe {
  return { info: '', isSoftware: true, error };
}
