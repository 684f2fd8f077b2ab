// Public API of @scan-repro/tools: the generators as functions, for tests that generate into a scratch tree.
// Nx itself loads them through generators.json.
export { datasetGenerator, datasetPaths, DATASET_NAME_PATTERN, type DatasetGeneratorSchema } from './dataset/generator';
