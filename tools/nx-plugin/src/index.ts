// @scan-repro/nx-plugin: infers the experiment task graph from experiments/*/experiment.yaml.
//   - one project per experiment (targets pretext, mine, scan, selflabel, eval--<row>, eval, reproduce),
//   - one project per unique stage node (dataset + stage config + upstream), shared by every experiment using it.
export { createNodesV2, createNodes, loadPlan, EXPERIMENT_GLOB } from './plugin';
export {
  parseExperiment,
  splitOverrides,
  ExperimentError,
  PROFILES,
  STAGES,
  type Experiment,
  type ExperimentRow,
  type Profile,
  type Stage,
} from './experiment';
export {
  buildPlan,
  nodeProject,
  experimentProject,
  runDir,
  evalDir,
  nodeRoot,
  stageTasksAtOnce,
  type Plan,
  type StageNode,
  type RowPlan,
} from './graph';
export { checkAvailability, datasetInfo, expectedDataPaths } from './datasets';
export { startRemoteCacheServer, type RemoteCacheServer } from './remote-cache-server';
export { formatRunPlan, formatRunSummary, makeRunPlan, parseNxArgv, type RunPlan } from './run-plan';
