// @scan-repro/tracking: local CSV/JSON run records, an MLflow REST client, and sync of missed uploads.
export { MlflowClient, MlflowError, proxiedArtifactRoot } from './mlflow-client';
export type {
  MlflowClientOptions,
  MlflowExperiment,
  MlflowFileInfo,
  MlflowMetric,
  MlflowParam,
  MlflowRun,
  MlflowRunInfo,
  MlflowRunStatus,
  MlflowTag,
} from './mlflow-client';
export { MLFLOW_LIMITS, splitLogBatch, type LogBatchPayload } from './batching';
export { readCompletedRun, configToParams, type CompletedRun, type MetricPoint } from './run-folder';
export { readRunRecords, recordRunLocally, buildRunRecord, runKey, resultsPaths, type RunRecord, type RunLabels } from './records';
export {
  trackRun,
  syncPending,
  readPendingUploads,
  findRunsByKey,
  resetMlflowWarning,
  RUN_KEY_TAG,
  UPLOAD_COMPLETE_TAG,
  SIDECAR_FILE,
  type TrackRunOptions,
  type TrackRunResult,
  type MlflowOutcome,
  type MlflowSidecar,
  type PendingUpload,
  type SyncOptions,
  type SyncReport,
} from './track';
export { runMlflowSync } from './sync-command';
export { syncRecordedRuns, syncTrackingUri, NoTrackingUriError, RECORD_FOLDERS, type SyncRecordedOptions, type SyncRecordedReport } from './sync-records';
