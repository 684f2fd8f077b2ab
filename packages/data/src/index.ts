// Public API of @scan-repro/data: the dataset contract and registry, official-format plumbing and class-folder
// image decoding (sharp) shared by the dataset-* packages, the decoded-data cache, subsets, inspection, and the
// batch loader (which applies @scan-repro/augment's transforms).
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
export { decodeImageFile, decodeImagesInOrder, resizedShape, isImageFileName, IMAGE_EXTENSIONS, type DecodeOptions } from './image-decode';
export { listClassFolderFiles, listImageFiles, listSubfolders, requireDirectory, checkNumClasses } from './class-folders';
export type { ClassFolderFiles } from './class-folders';
export { loadFolderSplit, type FolderSplitSpec } from './folder-split';
export { stratifiedSubsetIndices, subsetSplit, concatSplits, loadSplitByName, loadSplit, hashString } from './subset';
export { inspectDataset, formatInspection, type DatasetInspection, type SplitInspection } from './inspect';
export { createLoader, mixSeed, transformBatch } from './loader';
export type { Batch, Loader, LoaderOptions, LoaderView, NeighborTable, TransformSpec } from './loader';
