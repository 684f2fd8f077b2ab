// Public API of @scan-repro/core: config composition, run folders and artifacts, seeding, progress, logging.
export type { ScanConfig } from './config-schema';
export { ConfigError } from './config-error';
export {
  composeConfig, configHash, stageHash, stageConfigGroups, flattenConfig, configToYaml, defaultRunDir, type StageName,
} from './config';
export { atomicWriteFile, atomicWriteJson, removeOrphanedTmpFiles } from './atomic';
export { writeSafetensors, readSafetensors, type NamedArray } from './safetensors';
export { RunFolder, readManifest, readMetrics, type Manifest, type StageResult } from './run-folder';
export { createRng, type Rng, type RngState } from './rng';
export { createProgress, type Progress } from './progress';
export { log } from './log';
export { resolveRecordedPath } from './portable-paths';
export { projectRoot } from './project';
export { typescriptWorkerEntry } from './worker-entry';
