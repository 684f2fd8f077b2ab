import { availableParallelism } from 'node:os';
import { defineConfig } from 'vitest/config';
import LongFilesFirst from './tools/ci/sequencer';

// One test run over every workspace project: each package/tool folder with a vitest.config.ts is a project,
// plus the cross-package end-to-end tests under test/.
export default defineConfig({
  test: {
    projects: ['packages/*/vitest.config.ts', 'tools/*/vitest.config.ts', 'test/vitest.config.ts'],
    // 'default' for people; the summary line `N passed, N failed` for CI logs.
    reporters: ['default', './tools/ci/summary-reporter.ts'],
    // every core (vitest leaves one free by default): most files are single-threaded, and a 2-core machine would
    // otherwise run them one at a time; the long files go first (tools/ci/sequencer.ts)
    maxWorkers: availableParallelism(),
    sequence: { sequencer: LongFilesFirst },
    // one temp folder per run, removed at the end; then a local MLflow server when MLFLOW_TRACKING_URI is unset
    // (the tracking tests need a real one)
    globalSetup: ['./tools/ci/vitest-tmpdir.ts', './tools/mlflow/vitest-global-setup.ts'],
  },
});
