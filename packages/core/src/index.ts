// Public API of @scan-repro/core: config composition, run folders and artifacts, seeding, progress, logging.
export type { ScanConfig, BackendConfig, PretextMethod } from './config-schema';
export { ConfigError } from './config-error';
export {
  composeConfig, configHash, stageHash, stageConfigGroups, flattenConfig, configToYaml, defaultRunDir, type StageName,
} from './config';
export { atomicWriteFile, atomicWriteJson, removeAtomicTmpDebris, removeOrphanedTmpFiles } from './atomic';
export { writeSafetensors, readSafetensors, type NamedArray, type DType } from './safetensors';
export {
  RunFolder, readManifest, readMetrics, runConfigHash, sha256File,
  type Manifest, type StageResult, type Checkpoint, type ArtifactRecord, type InputRecord, type RunStatus,
} from './run-folder';
export { requireInputs, type Stage, type StageInputs, type StageOptions } from './stage';
export {
  ARTIFACTS, RUN_FILES, artifactPath, readNeighbors, writeNeighbors, readFeatures, writeFeatures, readPredictions, writePredictions,
  readEvalMetrics, writeEvalMetrics,
  type ArtifactName, type NeighborTable, type Neighbors, type FeatureKind, type SplitFeatures, type MinedFeatures, type Predictions, type EvalMetrics,
} from './artifacts';
export { createRng, type Rng, type RngState } from './rng';
export { createProgress, type Progress } from './progress';
export { log } from './log';
export { resolveRecordedPath } from './portable-paths';
export { projectRoot } from './project';
export { typescriptWorkerEntry } from './worker-entry';
