// Loading a class-folder split (ImageNet, imagefolder) through the decoded-data cache: subset before decoding,
// decode with bounded concurrency, stream into the cache in file order.
import { createProgress } from '@scan-repro/core';
import type { ClassFolderFiles } from './class-folders';
import { loadCachedSplit } from './cache';
import type { ImageSplit } from './dataset';
import { decodeImagesInOrder } from './image-decode';
import { splitSubsetIndices } from './subset';

// Bump when decodeImageFile's output changes for the same files (kernel, colour handling, resize rule).
const FOLDER_DECODER_VERSION = 1;

export interface FolderSplitSpec {
  dataset: string;
  split: string;
  /** folder the files came from (reported as ImageSplit.source) */
  source: string;
  files: ClassFolderFiles;
  /** shorter side target, 0 = keep */
  resize: number;
  /**
   * At most this many images, class-stratified (0 = all), chosen before decoding so that a CI run decodes
   * only what it uses. Seeded by `subsetSeed` and the split name: the same subset that data's loadSplit()
   * takes from the full split with that dataset.subset_seed; loadSplit() then leaves it as it is.
   */
  max: number;
  /** dataset.subset_seed */
  subsetSeed: number;
  /** decoded-data cache folder */
  cacheDir: string;
  concurrency?: number;
}

/** Decodes a class-folder split into the decoded-data cache (or reads it from there), with a progress bar. */
export async function loadFolderSplit(spec: FolderSplitSpec): Promise<ImageSplit> {
  const { files, labels, classNames } = spec.files;
  const keep = splitSubsetIndices(labels, spec.max, spec.subsetSeed, spec.split);
  const keptFiles = Array.from(keep, (i) => files[i]);
  const keptLabels = Int32Array.from(keep, (i) => labels[i]);

  const split = await loadCachedSplit({
    cacheDir: spec.cacheDir,
    dataset: spec.dataset,
    split: spec.split,
    sourceFiles: keptFiles,
    source: spec.source,
    // Resized images keep their aspect ratio, so sizes differ between images in general.
    imageShape: null,
    decoderVersion: FOLDER_DECODER_VERSION,
    // The class names are part of the key: the same files under another class order get other labels.
    keyExtra: { resize: spec.resize, classNames, labels: Array.from(keptLabels) },
    decode: async (writer) => {
      const progress = createProgress(`decode ${spec.dataset}/${spec.split}`, keptFiles.length);
      try {
        await decodeImagesInOrder(keptFiles, {
          resize: spec.resize,
          concurrency: spec.concurrency,
          onImage: (i, image) => {
            writer.appendImage(image, keptLabels[i]);
            progress.tick();
          },
        });
      } finally {
        progress.stop();
      }
    },
  });
  return keep.length === files.length ? split : { ...split, originalIndices: keep };
}
