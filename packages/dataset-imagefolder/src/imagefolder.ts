import { existsSync, statSync } from 'node:fs';
import { join } from 'node:path';
import {
  checkNumClasses,
  IMAGE_EXTENSIONS,
  listClassFolderFiles,
  listSubfolders,
  loadFolderSplit,
  registerDataset,
  requireDirectory,
  resolveCacheDir,
  resolveDataRoot,
  stratifiedSubsetIndices,
  type ClassFolderFiles,
  type Dataset,
  type DatasetConfig,
  type ImageSplit,
} from '@scan-repro/data';

/** Share of each class held out as the val split when the folder has no train/ and val/ sub-folders. */
export const HOLDOUT_VAL_FRACTION = 0.1;
const HOLDOUT_SEED = 0;

/**
 * How a user's image folder is laid out:
 * - 'split-folders': `<root>/<train_split>/<class>/*` and `<root>/<val_split>/<class>/*`, same class sets;
 * - 'single-folder': `<root>/<class>/*`; a seeded 10% of every class becomes the val split.
 */
export type ImageFolderLayout = 'split-folders' | 'single-folder';

export interface ImageFolderInfo {
  root: string;
  layout: ImageFolderLayout;
  classNames: string[];
  trainSplit: string;
  valSplit: string;
}

function isDir(p: string): boolean {
  return existsSync(p) && statSync(p).isDirectory();
}

function listClassNames(dir: string): string[] {
  const classes = listSubfolders(dir);
  if (classes.length === 0) {
    throw new Error(
      `${dir} has no class sub-folders; expected one folder per class holding its images (${IMAGE_EXTENSIONS.join(', ')})`,
    );
  }
  return classes;
}

/** Finds the layout and the class names (sorted folder names) of an image folder; throws naming what is wrong. */
export function inspectImageFolder(root: string, trainSplit = 'train', valSplit = 'val'): ImageFolderInfo {
  requireDirectory(root, 'dataset.root: image folder');
  const hasTrain = isDir(join(root, trainSplit));
  const hasVal = isDir(join(root, valSplit));
  if (!hasTrain && !hasVal) {
    return { root, layout: 'single-folder', classNames: listClassNames(root), trainSplit, valSplit };
  }
  if (!hasTrain || !hasVal) {
    const missing = join(root, hasTrain ? valSplit : trainSplit);
    throw new Error(
      `${missing} is missing: an image folder has either both ${trainSplit}/ and ${valSplit}/ sub-folders ` +
        `(each with the same class folders) or only class folders (then ${HOLDOUT_VAL_FRACTION * 100}% of each class is held out as ${valSplit})`,
    );
  }
  const trainClasses = listClassNames(join(root, trainSplit));
  const valClasses = listClassNames(join(root, valSplit));
  const onlyTrain = trainClasses.filter((c) => !valClasses.includes(c));
  const onlyVal = valClasses.filter((c) => !trainClasses.includes(c));
  if (onlyTrain.length || onlyVal.length) {
    throw new Error(
      `${root}: ${trainSplit}/ and ${valSplit}/ must hold the same class folders; ` +
        [
          onlyTrain.length ? `only in ${trainSplit}/: ${onlyTrain.join(', ')}` : '',
          onlyVal.length ? `only in ${valSplit}/: ${onlyVal.join(', ')}` : '',
        ]
          .filter(Boolean)
          .join('; '),
    );
  }
  return { root, layout: 'split-folders', classNames: trainClasses, trainSplit, valSplit };
}

/** The files of one split of an image folder, in class-then-file-name order. */
export function imageFolderFiles(info: ImageFolderInfo, split: string): ClassFolderFiles {
  if (split !== info.trainSplit && split !== info.valSplit) {
    throw new Error(`imagefolder: unknown split '${split}'; expected ${info.trainSplit} or ${info.valSplit}`);
  }
  if (info.layout === 'split-folders') return listClassFolderFiles(join(info.root, split), info.classNames);

  const all = listClassFolderFiles(info.root, info.classNames);
  // Hold out a seeded share of each class (at least one image of every class with two or more, so that the
  // val split has every class).
  const valIndices = new Set<number>();
  info.classNames.forEach((_, c) => {
    const members = Array.from(all.labels.keys()).filter((i) => all.labels[i] === c);
    const numVal = members.length < 2 ? 0 : Math.max(1, Math.round(members.length * HOLDOUT_VAL_FRACTION));
    if (numVal === 0) return;
    const picked = stratifiedSubsetIndices(new Int32Array(members.length), numVal, HOLDOUT_SEED + c);
    for (const k of picked) valIndices.add(members[k]);
  });
  const wantVal = split === info.valSplit;
  const idx = all.files.map((_, i) => i).filter((i) => valIndices.has(i) === wantVal);
  return {
    classNames: all.classNames,
    files: idx.map((i) => all.files[i]),
    labels: Int32Array.from(idx, (i) => all.labels[i]),
  };
}

/** The `imagefolder` dataset: a user's own images in class folders, decoded like ImageNet. */
export function openImageFolder(cfg: DatasetConfig): Dataset {
  const root = resolveDataRoot(cfg.root);
  const trainSplit = cfg.train_split || 'train';
  const valSplit = cfg.val_split || 'val';
  const info = inspectImageFolder(root, trainSplit, valSplit);
  checkNumClasses(cfg.num_classes, info.classNames.length, root);
  return {
    name: 'imagefolder',
    numClasses: info.classNames.length,
    classNames: info.classNames,
    splits: [trainSplit, valSplit],
    imageSize: cfg.image_size,
    mean: cfg.mean as [number, number, number],
    std: cfg.std as [number, number, number],
    load(split: string): Promise<ImageSplit> {
      const files = imageFolderFiles(info, split);
      return loadFolderSplit({
        dataset: 'imagefolder',
        split,
        source: info.layout === 'split-folders' ? join(root, split) : root,
        files,
        resize: cfg.resize ?? 0,
        max: (split === trainSplit ? cfg.max_train : cfg.max_val) ?? 0,
        subsetSeed: cfg.subset_seed ?? 0,
        cacheDir: resolveCacheDir(cfg.cache_dir),
      });
    },
  };
}

registerDataset('imagefolder', openImageFolder, { aliases: ['image_folder'] });
