// @scan-repro/backend: TensorFlow.js backend selection, fast wasm gradient kernels, batch-norm with a fused
// gradient, and micro-batch gradient accumulation.
export { initBackend, initBackendFromConfig } from './init';
export type { ConcreteBackendName } from './init';
export { batchNormTrain, batchNormInfer } from './batch-norm';
export { accumulateGradients, microBatchRanges } from './accumulate';
export { unsplitKernelFunc } from './wasm-threads';
