// @scan-repro/cli: the command-line shell. Nothing imports it; exported for tests and tools that drive stages.
export { createProgram } from './program';
export { STAGES, loadStage, type StageSpec, type StageFn } from './stages';
export { runStageCommand, type StageCommandOptions, type StageIo } from './run-stage';
export { CliError, EXIT, reportError } from './errors';
export { registerAllDatasets } from './datasets';
