// @scan-repro/train: training machinery shared by the pretext, scan and selflabel stages.
export { createOptimizer, type Optimizer } from './optimizer';
export { cosineLr, warmupFactor } from './schedule';
export { Ema } from './ema';
export { extractFeatures, splitColumns } from './features';
export { runEpochs, type EpochContext } from './epochs';
export { trainStep, microBatches } from './step';
export { snapshotVariables, restoreVariables, allVariables, withPrefix, underPrefix } from './variables';
export { loadTrainVal, readNeighborsFor } from './splits';
export { numClustersOf } from './clusters';
export { transformSpecFor } from './transforms';
