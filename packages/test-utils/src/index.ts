// @scan-repro/test-utils: what the tests of every package share (only tests import it; check-deps enforces that).
export { maxAbsDiff, relativeError } from './tolerance';
export { lcgFloats, lcgStream, patternRgb } from './seeded';
export { tempDir, tempDirs, testTempDir } from './temp';
export { datasetConfig, OFFICIAL_AUGMENT } from './config';
export { describeOnBackends, JS_BACKENDS, type JsBackend } from './backends';
