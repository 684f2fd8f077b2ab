// STL-10 from the official binary distribution: stl10_binary.tar.gz or its extracted stl10_binary/.
// *_X.bin: uint8 images, 3x96x96 each, stored column-major per channel (see planarColumnMajorToHwc);
// *_y.bin: one byte per image, labels 1-10 (we use 0-9); unlabeled_X.bin has no labels (label -1).
// Splits (paper reference §6): train 5k, test 8k, unlabeled 100k, and train+unlabeled (105k) for the pretext task.
import {
  binaryFile,
  checkClassNames,
  concatSplits,
  describeBinaryFile,
  loadCachedSplit,
  locateBinaryDataset,
  locationPath,
  planarColumnMajorToHwc,
  readRecordFiles,
  resolveCacheDir,
  resolveDataRoot,
  sourceFilesFor,
  textFileSpec,
  type Dataset,
  type DatasetConfig,
  type DatasetSource,
  type ImageSplit,
  type RecordFileSpec,
} from '@scan-repro/data';

export const STL10_CLASSES = ['airplane', 'bird', 'car', 'cat', 'deer', 'dog', 'horse', 'monkey', 'ship', 'truck'];
const SIDE = 96;
export const STL10_IMAGE_BYTES = 3 * SIDE * SIDE;

export const STL10_SOURCE: DatasetSource = {
  title: 'STL-10 (binary version)',
  expected: ['stl10_binary', 'stl10_binary.tar.gz'],
  download: {
    url: 'http://ai.stanford.edu/~acoates/stl10/stl10_binary.tar.gz',
    file: 'stl10_binary.tar.gz',
    md5: '91f7769df0f17e558f3565bffb0c7dfb',
  },
};

type BaseSplit = 'train' | 'test' | 'unlabeled';
const OFFICIAL_RECORDS: Record<BaseSplit, number> = { train: 5_000, test: 8_000, unlabeled: 100_000 };

export interface Stl10Options {
  /** Images each split must hold (official: train 5000, test 8000, unlabeled 100000); null = any count. */
  expectedRecords?: Partial<Record<BaseSplit, number>> | null;
}

export function createStl10Dataset(cfg: DatasetConfig, opts: Stl10Options = {}): Dataset {
  async function loadBase(split: BaseSplit): Promise<ImageSplit> {
    const expected =
      opts.expectedRecords === null ? undefined : (opts.expectedRecords?.[split] ?? OFFICIAL_RECORDS[split]);
    const loc = locateBinaryDataset(resolveDataRoot(cfg.root), 'stl10_binary', 'stl10_binary.tar.gz', STL10_SOURCE);
    const xName = `${split}_X.bin`;
    const yName = split === 'unlabeled' ? null : `${split}_y.bin`;
    return loadCachedSplit({
      cacheDir: resolveCacheDir(cfg.cache_dir),
      dataset: 'stl10',
      split,
      sourceFiles: sourceFilesFor(loc, yName ? [xName, yName] : [xName]),
      source: locationPath(loc),
      imageShape: { height: SIDE, width: SIDE },
      // decoded under these count rules: a relaxed decode (tests) must not satisfy an official open
      keyExtra: { expected: expected ?? null },
      async decode(writer) {
        const xFile = binaryFile(loc, xName);
        let labels: Int32Array | null = null;
        const specs: RecordFileSpec[] = [];
        if (yName) {
          const yFile = binaryFile(loc, yName);
          const ys: number[] = [];
          specs.push({
            file: yFile,
            recordSize: 1,
            expectedRecords: expected,
            onRecords(block, count, first) {
              for (let r = 0; r < count; r++) {
                const y = block[r];
                if (y < 1 || y > 10)
                  throw new Error(`${describeBinaryFile(yFile)}: label ${first + r}: ${y} out of range 1-10`);
                ys.push(y - 1);
              }
              labels = Int32Array.from(ys);
            },
          });
        }
        let images = 0;
        specs.push({
          file: xFile,
          recordSize: STL10_IMAGE_BYTES,
          expectedRecords: expected,
          onRecords(block, count, first) {
            if (yName && (labels === null || first + count > labels.length))
              throw new Error(
                `${describeBinaryFile(xFile)}: wrong record count: more images than the ${labels?.length ?? 0} labels in ${yName}`,
              );
            const out = new Uint8Array(count * STL10_IMAGE_BYTES);
            for (let r = 0; r < count; r++)
              planarColumnMajorToHwc(block, r * STL10_IMAGE_BYTES, out, r * STL10_IMAGE_BYTES, SIDE, SIDE);
            writer.append(out, labels ? labels.subarray(first, first + count) : new Int32Array(count).fill(-1));
            images += count;
          },
        });
        const names = { text: null as string | null };
        const namesSpec = textFileSpec(loc, 'class_names.txt', names);
        if (namesSpec) specs.push(namesSpec);
        await readRecordFiles(specs);
        if (yName && images !== (labels as Int32Array | null)?.length)
          throw new Error(
            `${describeBinaryFile(xFile)}: wrong record count: ${images} images but ${yName} has ${(labels as Int32Array | null)?.length ?? 0} labels`,
          );
        if (namesSpec) checkClassNames(describeBinaryFile(namesSpec.file), names.text, STL10_CLASSES);
      },
    });
  }

  return {
    name: 'stl10',
    numClasses: 10,
    classNames: STL10_CLASSES,
    splits: ['train', 'test', 'unlabeled', 'train+unlabeled'],
    imageSize: SIDE,
    // Normalisation comes from the config alone (configs/dataset/stl10.yaml): it is in the config hash.
    mean: cfg.mean,
    std: cfg.std,
    async load(split) {
      if (split === 'train+unlabeled')
        return concatSplits(split, [await loadBase('train'), await loadBase('unlabeled')]);
      if (split === 'train' || split === 'test' || split === 'unlabeled') return loadBase(split);
      throw new Error(`stl10: unknown split '${split}'; expected one of: train, test, unlabeled, train+unlabeled`);
    },
  };
}
