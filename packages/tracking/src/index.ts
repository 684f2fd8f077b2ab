// @scan-repro/tracking: local CSV/JSON run records, an MLflow REST client, and sync of missed uploads.
export { MlflowClient } from './mlflow-client';
export { trackRun } from './track';
export { runMlflowSync } from './sync-command';
export { NoTrackingUriError, RECORD_FOLDERS } from './sync-records';
