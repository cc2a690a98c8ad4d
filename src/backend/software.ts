/** Names that drivers give themselves when they emulate a GPU on the CPU. */
const SOFTWARE_RENDERER = /swiftshader|llvmpipe|lavapipe|softpipe|software|basic render/i;

/** Whether an adapter or renderer description names a software (CPU-emulated) GPU. */
export function isSoftwareRenderer(...descriptions: (string | undefined)[]): boolean {
  return descriptions.some((d) => d !== undefined && SOFTWARE_RENDERER.test(d));
}

/** The parts of GPUAdapterInfo we read; older browsers leave some out. */
export interface AdapterInfoLike {
  vendor?: string;
  architecture?: string;
  device?: string;
  description?: string;
  isFallbackAdapter?: boolean;
}

/** `vendor architecture device (description)`, skipping blanks. */
export function describeAdapter(info: AdapterInfoLike): string {
  const head = [info.vendor, info.architecture, info.device].filter((s) => s).join(' ');
  const text = info.description ? `${head} (${info.description})`.trim() : head;
  return text || 'unnamed adapter';
}

export function isSoftwareAdapter(info: AdapterInfoLike): boolean {
  return (
    info.isFallbackAdapter === true ||
    isSoftwareRenderer(info.vendor, info.architecture, info.device, info.description)
  );
}
