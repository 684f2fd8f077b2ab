// @scan-repro/train: training machinery shared by the pretext, scan and selflabel stages.
export { createOptimizer, type Optimizer } from './optimizer';
export { cosineLr } from './schedule';
export { Ema, type EmaOptions } from './ema';
export { extractFeatures, splitColumns, type ExtractFeaturesOptions } from './features';
export { runEpochs, type RunEpochsOptions, type RunEpochsResult, type EpochContext } from './epochs';
export { trainStep, microBatches, type TrainStepOptions } from './step';
export { snapshotVariables, restoreVariables, allVariables, withPrefix, underPrefix } from './variables';
export { loadTrainVal, readNeighborsFor } from './splits';
export { numClustersOf } from './clusters';
export { transformSpecFor } from './transforms';
