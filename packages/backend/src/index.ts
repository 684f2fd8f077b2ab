// @scan-repro/backend: TensorFlow.js backend selection, fast wasm gradient kernels, batch-norm with a fused
// gradient, and micro-batch gradient accumulation.
export { initBackend, initBackendFromConfig, BACKEND_NAMES } from './init';
export type { BackendName, ConcreteBackendName, BackendChoice, InitBackendOptions } from './init';
export { batchNormTrain, batchNormInfer } from './batch-norm';
export { accumulateGradients, microBatchRanges } from './accumulate';
export { unsplitKernelFunc } from './wasm-threads';
