// The dataset contract shared by every dataset-* package, and the registry that maps config names to them.
// Dataset packages call registerDataset() when imported; stages call openDataset(config.dataset).
import type { ScanConfig } from '@scan-repro/core';

/** The `dataset` config group (configs/dataset/*.yaml), as composed by core. */
export type DatasetConfig = ScanConfig['dataset'];

/** One decoded image: uint8 RGB, row-major HWC (data.length === height * width * 3). */
export interface DecodedImage {
  data: Uint8Array;
  height: number;
  width: number;
}

/** A decoded split: images addressed by index 0..size-1, labels for evaluation only. */
export interface ImageSplit {
  dataset: string;
  split: string;
  size: number;
  /** Where the images came from (archive or folder path), for reports and `data inspect`. */
  source: string;
  /** Class index per image, -1 = unlabelled. Used for evaluation only, never for training. */
  labels: Int32Array;
  /** Fixed image size of every image, or null when images differ in size (ImageNet). */
  imageShape: { height: number; width: number } | null;
  /**
   * Index of each image in the full (un-subsetted) split, set when this split is a subset or a
   * concatenation, so results can be traced back to the original data. Absent = identity.
   */
  originalIndices?: Int32Array;
  /** uint8 HWC RGB. The returned array may be a view into a shared buffer: do not modify it. */
  image(i: number): DecodedImage;
}

export interface Dataset {
  /** Canonical name (e.g. 'cifar10', 'cifar20', 'stl10', 'imagenet_50'). */
  name: string;
  numClasses: number;
  classNames: string[];
  /** Split names load() accepts, e.g. ['train', 'test'] or ['train', 'test', 'unlabeled', 'train+unlabeled']. */
  splits: string[];
  /** Nominal image side in pixels before cropping (32 CIFAR, 96 STL, 224 ImageNet after Resize 256). */
  imageSize: number;
  mean: [number, number, number];
  std: [number, number, number];
  /** Decodes the split (or reads the decoded-data cache, keyed by a fingerprint of the source files). */
  load(split: string): Promise<ImageSplit>;
}

export type DatasetFactory = (cfg: DatasetConfig) => Dataset;

/** How to obtain a dataset's files: used by prepareDataset() to download or explain where to put them. */
export interface DatasetSource {
  /** Human-readable dataset name for messages, e.g. 'CIFAR-10'. */
  title: string;
  /** Any one of these paths (relative to the data root) present means the data is there. */
  expected: string[];
  /** The official download: saved as `file` in the data root. */
  download?: { url: string; file: string; md5?: string };
}

/** A workspace package that registers datasets (found by loadDatasetPackages). */
export interface DatasetPackageRef {
  /** package name, e.g. @scan-repro/dataset-cifar10 */
  name: string;
  /** absolute folder */
  dir: string;
}

interface Registration {
  name: string;
  factory: DatasetFactory;
  source?: DatasetSource;
  /** The package whose import registered it (absent when imported other than by loadDatasetPackages). */
  package?: DatasetPackageRef;
}

// Names are matched without case, '-' and '_' so that 'cifar-10', 'CIFAR10' and 'cifar_10' are one dataset.
export function normalizeDatasetName(name: string): string {
  return name.toLowerCase().replace(/[-_\s]/g, '');
}

const registry = new Map<string, Registration>();

// loadDatasetPackages imports one package at a time and names it here first, so that each registration records
// its package without a hand-written map of dataset names to packages.
let importing: DatasetPackageRef | undefined;
const failedPackages = new Map<string, string>();

/** Internal to loadDatasetPackages: the package being imported now (undefined when done). */
export function setImportingPackage(pkg: DatasetPackageRef | undefined): void {
  importing = pkg;
}

/** Internal to loadDatasetPackages: a package whose import failed (named in unknown-dataset errors). */
export function noteFailedPackage(name: string, error: string): void {
  failedPackages.set(name, error);
}

/** Registers a dataset factory under a name (and optional aliases). Re-registering a name replaces it. */
export function registerDataset(
  name: string,
  factory: DatasetFactory,
  opts: { aliases?: string[]; source?: DatasetSource } = {},
): void {
  const reg: Registration = { name, factory, source: opts.source, package: importing };
  for (const n of [name, ...(opts.aliases ?? [])]) registry.set(normalizeDatasetName(n), reg);
}

/** Canonical names of all registered datasets. */
export function registeredDatasets(): string[] {
  return [...new Set([...registry.values()].map((r) => r.name))].sort();
}

function lookup(name: string): Registration {
  const reg = registry.get(normalizeDatasetName(name));
  if (!reg) {
    const known = registeredDatasets();
    const failures = [...failedPackages].map(([pkg, error]) => `${pkg} (${error})`).join('; ');
    throw new Error(
      `dataset.name: unknown dataset '${name}'; registered: ${known.length ? known.join(', ') : '(none)'}. ` +
        (failures
          ? `Dataset packages that failed to load: ${failures}`
          : `Its package (e.g. '@scan-repro/dataset-${name.toLowerCase().replace(/[-_]/g, '')}') must be loaded first (loadDatasetPackages).`),
    );
  }
  return reg;
}

/** Opens the dataset named by `cfg.name`; its package must have been imported (it registers itself). */
export function openDataset(cfg: DatasetConfig): Dataset {
  return lookup(cfg.name).factory(cfg);
}

/** The registered download / placement description of a dataset, if its package gave one. */
export function datasetSource(name: string): DatasetSource | undefined {
  return lookup(name).source;
}

/** The workspace package that registered a dataset; undefined when it was imported other than by loadDatasetPackages. */
export function registeringPackage(name: string): DatasetPackageRef | undefined {
  return lookup(name).package;
}
