// Public API of @scan-repro/core: config composition, run folders and artifacts, seeding, progress, logging.
export type { ScanConfig, BackendConfig, PretextMethod } from './config-schema';
export { ConfigError } from './config-error';
export {
  composeConfig,
  configHash,
  stageHash,
  stageConfigGroups,
  flattenConfig,
  configToYaml,
  defaultRunDir,
  type StageName,
} from './config';
export { atomicWriteFile, atomicWriteJson, removeOrphanedTmpFiles } from './atomic';
export { writeSafetensors, readSafetensors, type NamedArray } from './safetensors';
export { RunFolder, readManifest, readMetrics, type Manifest, type StageResult } from './run-folder';
export { requireInputs, type Stage, type StageInputs, type StageOptions } from './stage';
export {
  ARTIFACTS,
  RUN_FILES,
  artifactPath,
  readNeighbors,
  writeNeighbors,
  readFeatures,
  writeFeatures,
  writePredictions,
  readEvalMetrics,
  writeEvalMetrics,
  type Neighbors,
  type FeatureKind,
} from './artifacts';
export { createRng, type Rng, type RngState } from './rng';
export { createProgress, type Progress } from './progress';
export { log } from './log';
export { resolveRecordedPath } from './portable-paths';
export { projectRoot } from './project';
export { typescriptWorkerEntry } from './worker-entry';
