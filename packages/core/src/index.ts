// Public API of @scan-repro/core: config composition, run folders and artifacts, seeding, progress, logging.
export type {
  ScanConfig, ConfigGroup, DatasetConfig, AugmentConfig, BackboneConfig, ModelConfig, PretextConfig, MineConfig,
  ScanStageConfig, SelflabelConfig, EvalConfig, ProfileConfig, TrackingConfig, BackendConfig, RunConfig,
  BackboneName, PretextMethod, OptimizerName, ProfileName, BackendName,
} from './config-schema';
export { groupSchemas, CONFIG_GROUPS, PATH_KEYS } from './config-schema';
export { ConfigError, type ConfigIssue } from './config-error';
export {
  composeConfig, configHash, stageHash, stageConfigGroups, NON_IDENTITY_KEYS, flattenConfig, configToYaml,
  defaultRunDir, listGroupChoices, defaultConfigDir, type ComposeOptions, type StageName,
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
export { createProgress, type Progress, type ProgressOptions } from './progress';
export { log } from './log';
export { portablePath, portableConfig, resolveRecordedPath } from './portable-paths';
export { projectRoot, codeRevision, type CodeRevision } from './project';
export { typescriptWorkerEntry } from './worker-entry';
