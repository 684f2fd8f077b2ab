// CIFAR-10 from the official binary distribution: cifar-10-binary.tar.gz or its extracted cifar-10-batches-bin/.
// Record = 1 label byte (0-9) + 3072 pixel bytes (1024 R, 1024 G, 1024 B planes, each 32x32 row-major).
import {
  binaryFile,
  checkClassNames,
  loadCachedSplit,
  locateBinaryDataset,
  locationPath,
  planarRowMajorToHwc,
  readRecordFiles,
  resolveCacheDir,
  resolveDataRoot,
  sourceFilesFor,
  textFileSpec,
  describeBinaryFile,
  type Dataset,
  type DatasetConfig,
  type DatasetSource,
  type ImageSplit,
  type RecordFileSpec,
} from '@scan-repro/data';

export const CIFAR10_CLASSES = [
  'airplane',
  'automobile',
  'bird',
  'cat',
  'deer',
  'dog',
  'frog',
  'horse',
  'ship',
  'truck',
];
export const CIFAR10_RECORD_BYTES = 1 + 3072;
const SIDE = 32;
const PIXELS = SIDE * SIDE * 3;

export const CIFAR10_SOURCE: DatasetSource = {
  title: 'CIFAR-10 (binary version)',
  expected: ['cifar-10-batches-bin', 'cifar-10-binary.tar.gz'],
  download: {
    url: 'https://www.cs.toronto.edu/~kriz/cifar-10-binary.tar.gz',
    file: 'cifar-10-binary.tar.gz',
    md5: 'c32a1d4ab5d03f1284b67883e8d87530',
  },
};

const SPLIT_FILES: Record<string, string[]> = {
  train: ['data_batch_1.bin', 'data_batch_2.bin', 'data_batch_3.bin', 'data_batch_4.bin', 'data_batch_5.bin'],
  test: ['test_batch.bin'],
};

export interface Cifar10Options {
  /** Records each batch file must hold; official: 10000. */
  recordsPerBatch?: number;
}

export function createCifar10Dataset(cfg: DatasetConfig, opts: Cifar10Options = {}): Dataset {
  const perBatch = opts.recordsPerBatch ?? 10_000;
  return {
    name: 'cifar10',
    numClasses: 10,
    classNames: CIFAR10_CLASSES,
    splits: ['train', 'test'],
    imageSize: SIDE,
    // Normalisation comes from the config alone (schema defaults / configs/dataset): it is in the config hash.
    mean: cfg.mean,
    std: cfg.std,
    async load(split: string): Promise<ImageSplit> {
      const files = SPLIT_FILES[split];
      if (!files) throw new Error(`cifar10: unknown split '${split}'; expected one of: train, test`);
      const loc = locateBinaryDataset(
        resolveDataRoot(cfg.root),
        'cifar-10-batches-bin',
        'cifar-10-binary.tar.gz',
        CIFAR10_SOURCE,
      );
      return loadCachedSplit({
        cacheDir: resolveCacheDir(cfg.cache_dir),
        dataset: 'cifar10',
        split,
        sourceFiles: sourceFilesFor(loc, files),
        source: locationPath(loc),
        imageShape: { height: SIDE, width: SIDE },
        // decoded under these count rules: a relaxed decode (tests) must not satisfy an official open
        keyExtra: { perBatch },
        async decode(writer) {
          const names = { text: null as string | null };
          const specs: RecordFileSpec[] = files.map((f) => {
            const file = binaryFile(loc, f);
            return {
              file,
              recordSize: CIFAR10_RECORD_BYTES,
              expectedRecords: perBatch,
              onRecords(block, count, first) {
                const images = new Uint8Array(count * PIXELS);
                const labels = new Int32Array(count);
                for (let r = 0; r < count; r++) {
                  const off = r * CIFAR10_RECORD_BYTES;
                  const label = block[off];
                  if (label > 9)
                    throw new Error(
                      `${describeBinaryFile(file)}: record ${first + r}: label ${label} out of range 0-9`,
                    );
                  labels[r] = label;
                  planarRowMajorToHwc(block, off + 1, images, r * PIXELS, SIDE, SIDE);
                }
                writer.append(images, labels);
              },
            };
          });
          const namesSpec = textFileSpec(loc, 'batches.meta.txt', names);
          if (namesSpec) specs.push(namesSpec);
          await readRecordFiles(specs);
          if (namesSpec) checkClassNames(describeBinaryFile(namesSpec.file), names.text, CIFAR10_CLASSES);
        },
      });
    },
  };
}
