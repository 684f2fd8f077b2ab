// Public API of @scan-repro/data: the dataset contract and registry, official-format plumbing and class-folder
// image decoding (sharp) shared by the dataset-* packages, the decoded-data cache, subsets, inspection, and the
// batch loader (which applies @scan-repro/augment's transforms).
export type { Dataset, DatasetConfig, DatasetSource, ImageSplit } from './dataset';
export { registerDataset, openDataset, registeredDatasets, datasetSource } from './dataset';
export {
  findDatasetPackages,
  loadDatasetPackages,
  datasetPackage,
  DATASET_PACKAGE_PREFIX,
  type DatasetPackage,
  type DatasetPackagesLoad,
} from './dataset-packages';

export { repoRoot, resolveDataRoot, resolveCacheDir } from './paths';
export { prepareDataset, findSource, missingDataMessage } from './prepare';
export { loadCachedSplit, decodeCount } from './cache';
export { readRecordFiles, describeBinaryFile, type RecordFileSpec } from './records';
export { planarRowMajorToHwc, planarColumnMajorToHwc } from './pixels';
export {
  locateBinaryDataset,
  locationPath,
  binaryFile,
  sourceFilesFor,
  textFileSpec,
  checkClassNames,
} from './binary-dataset';
export { IMAGE_EXTENSIONS } from './image-decode';
export {
  listClassFolderFiles,
  listSubfolders,
  requireDirectory,
  checkNumClasses,
  type ClassFolderFiles,
} from './class-folders';
export { loadFolderSplit } from './folder-split';
export { stratifiedSubsetIndices, concatSplits, loadSplit, hashString } from './subset';
export { inspectDataset, formatInspection } from './inspect';
export { createLoader, mixSeed, type Loader, type LoaderView, type TransformSpec } from './loader';
