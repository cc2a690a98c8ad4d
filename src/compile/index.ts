export { planGraph, type Plan, type PlanResult, type Step } from './plan.ts';
export { CompiledModel, weightKey, type ForwardOptions, type NamedWeight } from './model.ts';
export { fromTorch, toTorch, torchLayout, opsShape } from './layout.ts';
export { initialValues, rng, gaussian, hashString } from './init.ts';
export * from './weights.ts';
