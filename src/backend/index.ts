export { initBackend, isBackendName } from './init.ts';
export { BACKEND_NAMES } from './types.ts';
export type { BackendInfo, BackendName, BackendPreference, InitBackendOptions } from './types.ts';
export { describeAdapter, isSoftwareAdapter, isSoftwareRenderer } from './software.ts';
