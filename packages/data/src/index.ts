// Public API of @scan-repro/data: the dataset contract and registry, official-format plumbing shared by the
// dataset-* packages, the decoded-data cache, subsets, inspection, the batch loader, and the augmentations.
export type { Dataset, DatasetConfig, DatasetFactory, DatasetSource, DecodedImage, ImageSplit } from './dataset';
export { registerDataset, openDataset, registeredDatasets, datasetSource, normalizeDatasetName } from './dataset';

export { repoRoot, resolveDataRoot, resolveCacheDir } from './paths';
export { prepareDataset, findSource, missingDataMessage, type PrepareOptions } from './prepare';
export { loadCachedSplit, decodeCount, fingerprintFile, fingerprintSources } from './cache';
export type { CachedSplitOptions, SplitWriter, FileFingerprint } from './cache';
export { readRecordFiles, countRecords, describeBinaryFile } from './records';
export type { BinaryFile, RecordFileSpec, RecordHandler } from './records';
export { planarRowMajorToHwc, planarColumnMajorToHwc } from './pixels';
export { locateBinaryDataset, locationPath, binaryFile, sourceFilesFor, textFileSpec, checkClassNames } from './binary-dataset';
export type { BinaryLocation } from './binary-dataset';
export { stratifiedSubsetIndices, subsetSplit, concatSplits, loadSplitByName, loadSplit, hashString } from './subset';
export { inspectDataset, formatInspection, type DatasetInspection, type SplitInspection } from './inspect';
export { createLoader, mixSeed, transformBatch } from './loader';
export type { Batch, Loader, LoaderOptions, LoaderView, NeighborTable, TransformSpec } from './loader';

export * from './augment';
