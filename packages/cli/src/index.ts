// @scan-repro/cli: the command-line shell. Nothing imports it; exported for tests and tools that drive stages.
export { createProgram } from './program';
export { STAGES, loadStage, type StageSpec } from './stages';
export { runStageCommand, type StageCommandOptions, type StageIo } from './run-stage';
export { CliError, EXIT, reportError } from './errors';
export { registerAllDatasets, findDatasetPackages, DATASET_PACKAGE_PREFIX, type DatasetPackage, type DatasetRegistration } from './datasets';
