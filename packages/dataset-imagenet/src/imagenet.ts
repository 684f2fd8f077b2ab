import { existsSync, readFileSync, statSync } from 'node:fs';
import { join, resolve } from 'node:path';
import { log } from '@scan-repro/core';
import {
  checkNumClasses,
  listClassFolderFiles,
  listSubfolders,
  loadFolderSplit,
  registerDataset,
  resolveCacheDir,
  resolveDataRoot,
  type Dataset,
  type DatasetConfig,
  type DatasetSource,
  type ImageSplit,
} from '@scan-repro/data';
import { imagenetSubsetClasses, isImagenetSubsetName, parseSubsetList, type ImagenetClass } from './subsets';

/** Folder names of a split: ours first, then the official SCAN repo's ILSVRC names. */
export const IMAGENET_SPLIT_FOLDERS: Record<string, string[]> = {
  train: ['train', 'ILSVRC2012_img_train'],
  val: ['val', 'ILSVRC2012_img_val'],
};

/** Optional `<wnid> <name>` files that name the classes of full ImageNet (ours, Kaggle's). */
const CLASS_NAME_FILES = ['classes.txt', 'LOC_synset_mapping.txt'];

const IMAGENET_SOURCE: DatasetSource = {
  title: 'ImageNet (ILSVRC-2012), class-folder layout',
  expected: ['train', 'ILSVRC2012_img_train', 'imagenet/train', 'imagenet/ILSVRC2012_img_train'],
};

function isDir(p: string): boolean {
  return existsSync(p) && statSync(p).isDirectory();
}

function findSplitDir(root: string, split: string): string | null {
  for (const name of IMAGENET_SPLIT_FOLDERS[split] ?? [split]) if (isDir(join(root, name))) return join(root, name);
  return null;
}

/**
 * The ImageNet folder: the data root itself when it holds a train split folder, else the first of
 * `<root>/<folder>` for the given folder names that does.
 */
export function findImagenetRoot(dataRoot: string, folders: readonly string[] = ['imagenet']): string {
  const candidates = [dataRoot, ...folders.map((f) => join(dataRoot, f))];
  for (const dir of candidates) if (findSplitDir(dir, 'train')) return dir;
  throw new Error(
    `dataset.root: no ImageNet train folder in ${candidates.join(' or ')}; expected ` +
      `train/<wnid>/*.JPEG and val/<wnid>/*.JPEG (or ILSVRC2012_img_train/ and ILSVRC2012_img_val/, the val images ` +
      `sorted into <wnid> folders). ImageNet cannot be downloaded automatically: get it from https://image-net.org.`,
  );
}

export interface ImagenetOptions {
  /** dataset name to report and cache under (imagenet_50, imagenet_100, imagenet_200, imagenet, imagenet_sample) */
  name: string;
  /** SCAN subset name, a path to a `<wnid> <name>` list file, or '' for all classes of the train folder */
  subset: string;
  /** use only the listed classes that are present instead of failing on missing ones (imagenet_sample) */
  allowMissingClasses: boolean;
  /** sub-folders of the data root to look in when the root itself is not the ImageNet folder */
  folders?: string[];
}

export interface ImagenetLayout {
  root: string;
  splitDirs: Record<string, string>;
  classes: ImagenetClass[];
  /** listed classes absent from a split folder (non-empty only with allowMissingClasses) */
  missing: string[];
}

function readClassNames(root: string): Map<string, string> {
  for (const file of CLASS_NAME_FILES) {
    const path = join(root, file);
    if (existsSync(path))
      return new Map(parseSubsetList(readFileSync(path, 'utf8'), path).map((c) => [c.wnid, c.name]));
  }
  return new Map();
}

function listedClasses(subset: string): ImagenetClass[] {
  if (isImagenetSubsetName(subset)) return imagenetSubsetClasses(subset);
  const path = resolve(subset);
  if (!existsSync(path)) {
    throw new Error(
      `dataset.subset: '${subset}' is neither imagenet_50/100/200 nor an existing '<wnid> <name>' list file`,
    );
  }
  return parseSubsetList(readFileSync(path, 'utf8'), path);
}

/**
 * Resolves the split folders and the class list (class index = list order for subsets, sorted wnid folders
 * for full ImageNet). A subset with classes missing from train/ or val/ fails with the missing wnids unless
 * allowMissingClasses, which keeps the present classes in list order.
 */
export function resolveImagenetLayout(dataRoot: string, opts: ImagenetOptions): ImagenetLayout {
  const root = findImagenetRoot(dataRoot, opts.folders);
  const splitDirs: Record<string, string> = {};
  for (const split of Object.keys(IMAGENET_SPLIT_FOLDERS)) {
    const dir = findSplitDir(root, split);
    if (!dir) {
      throw new Error(
        `${root}: no ${split} folder (${IMAGENET_SPLIT_FOLDERS[split].join(' or ')}); the ${split} images must be in <wnid> sub-folders`,
      );
    }
    splitDirs[split] = dir;
  }
  const present = Object.fromEntries(Object.entries(splitDirs).map(([s, d]) => [s, new Set(listSubfolders(d))]));

  if (!opts.subset) {
    const names = readClassNames(root);
    const wnids = [...present.train];
    if (wnids.length === 0) throw new Error(`${splitDirs.train} has no <wnid> class folders`);
    const notInVal = wnids.filter((w) => !present.val.has(w));
    if (notInVal.length) {
      throw new Error(
        `${splitDirs.val} lacks ${notInVal.length} class folders that ${splitDirs.train} has: ${notInVal.join(', ')}`,
      );
    }
    return { root, splitDirs, classes: wnids.map((wnid) => ({ wnid, name: names.get(wnid) ?? wnid })), missing: [] };
  }

  const listed = listedClasses(opts.subset);
  const isMissing = (c: ImagenetClass) => !present.train.has(c.wnid) || !present.val.has(c.wnid);
  const missing = listed.filter(isMissing).map((c) => c.wnid);
  const classes = listed.filter((c) => !isMissing(c));
  if (missing.length > 0 && (!opts.allowMissingClasses || classes.length === 0)) {
    const perSplit = Object.entries(splitDirs)
      .map(([s, d]) => `${listed.filter((c) => !present[s].has(c.wnid)).length} missing from ${d}`)
      .join(', ');
    throw new Error(
      `${opts.name}: ${missing.length} of the ${listed.length} classes of subset ${opts.subset} are missing ` +
        `(${classes.length} present; ${perSplit}). Missing wnids: ${missing.join(', ')}. ` +
        (classes.length === 0
          ? 'No class of the list is present: is dataset.root the right folder?'
          : `Add their <wnid> folders, or use only the ${classes.length} present classes with ` +
            `dataset.name=imagenet_sample dataset.num_classes=${classes.length}.`),
    );
  }
  return { root, splitDirs, classes, missing };
}

/** Opens ImageNet or a SCAN subset of it from the ILSVRC class-folder layout. */
export function openImagenet(cfg: DatasetConfig, opts: ImagenetOptions): Dataset {
  const layout = resolveImagenetLayout(resolveDataRoot(cfg.root), opts);
  if (layout.missing.length > 0) {
    log.warn(
      `${opts.name}: using the ${layout.classes.length} present classes of subset ${opts.subset}; ` +
        `${layout.missing.length} listed classes are missing (${layout.missing.join(', ')})`,
    );
  }
  checkNumClasses(cfg.num_classes, layout.classes.length, `${opts.name} in ${layout.root}`);
  const wnids = layout.classes.map((c) => c.wnid);
  // Our split names are train/val; a config that calls them otherwise maps onto these two.
  const splitFolder = (split: string): string => {
    const canonical = split === cfg.train_split ? 'train' : split === cfg.val_split ? 'val' : split;
    const dir = layout.splitDirs[canonical];
    if (!dir) throw new Error(`${opts.name}: unknown split '${split}'; expected train or val`);
    return dir;
  };
  return {
    name: opts.name,
    numClasses: layout.classes.length,
    classNames: layout.classes.map((c) => c.name),
    splits: ['train', 'val'],
    imageSize: cfg.image_size,
    mean: cfg.mean as [number, number, number],
    std: cfg.std as [number, number, number],
    load(split: string): Promise<ImageSplit> {
      const dir = splitFolder(split);
      const isTrain = dir === layout.splitDirs.train;
      return loadFolderSplit({
        dataset: opts.name,
        split,
        source: dir,
        files: listClassFolderFiles(dir, wnids),
        resize: cfg.resize ?? 0,
        max: (isTrain ? cfg.max_train : cfg.max_val) ?? 0,
        subsetSeed: cfg.subset_seed ?? 0,
        cacheDir: resolveCacheDir(cfg.cache_dir),
      });
    },
  };
}

// dataset.name imagenet_50 / imagenet_100 / imagenet_200 fix the subset; the configs spell the same thing as
// name imagenet with subset imagenet_50, and a subset path there reads a custom '<wnid> <name>' list.
for (const name of ['imagenet_50', 'imagenet_100', 'imagenet_200']) {
  registerDataset(
    name,
    (cfg) => {
      if (cfg.subset && cfg.subset !== name) {
        throw new Error(
          `dataset.subset is '${cfg.subset}' but dataset.name '${name}' fixes the subset; use dataset.name=imagenet with dataset.subset=${cfg.subset}`,
        );
      }
      return openImagenet(cfg, { name, subset: name, allowMissingClasses: false });
    },
    { source: IMAGENET_SOURCE },
  );
}
registerDataset(
  'imagenet',
  (cfg) =>
    openImagenet(cfg, {
      name: isImagenetSubsetName(cfg.subset) ? cfg.subset : 'imagenet',
      subset: cfg.subset,
      allowMissingClasses: false,
    }),
  { aliases: ['ilsvrc2012'], source: IMAGENET_SOURCE },
);

// A SCAN subset restricted to the classes that are present (default imagenet_50), looked for in the data root or
// <root>/imagenet-sample. Made for the real-image sample in shared/data (14 of the 50 classes, 64x64
// Tiny-ImageNet JPEGs): `dataset=imagenet_50 dataset.name=imagenet_sample dataset.num_classes=14`.
// Also serves a partial local copy of ImageNet. The plain subset names fail on missing classes instead.
registerDataset(
  'imagenet_sample',
  (cfg) =>
    openImagenet(cfg, {
      name: 'imagenet_sample',
      subset: cfg.subset || 'imagenet_50',
      allowMissingClasses: true,
      folders: ['imagenet-sample', 'imagenet'],
    }),
  {
    source: {
      title: 'ImageNet sample (SCAN subset classes present in the folder)',
      expected: ['imagenet-sample/train'],
    },
  },
);
