// CIFAR-100 and CIFAR-100-20 from the official binary distribution: cifar-100-binary.tar.gz or its extracted
// cifar-100-binary/ (train.bin, test.bin; record = coarse byte + fine byte + 3072 CHW pixel bytes).
// Both datasets share one decoded cache (images + fine labels); while decoding, every record's coarse byte is
// checked against FINE_TO_COARSE, so CIFAR-100-20's labels are exactly the file's coarse labels.
import {
  binaryFile,
  checkClassNames,
  describeBinaryFile,
  loadCachedSplit,
  locateBinaryDataset,
  locationPath,
  planarRowMajorToHwc,
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
import { CIFAR100_COARSE_FILE_NAMES, CIFAR100_FINE_CLASSES, CIFAR20_CLASSES, FINE_TO_COARSE } from './labels';

export const CIFAR100_RECORD_BYTES = 2 + 3072;
const SIDE = 32;
const PIXELS = SIDE * SIDE * 3;

export const CIFAR100_SOURCE: DatasetSource = {
  title: 'CIFAR-100 (binary version)',
  expected: ['cifar-100-binary', 'cifar-100-binary.tar.gz'],
  download: {
    url: 'https://www.cs.toronto.edu/~kriz/cifar-100-binary.tar.gz',
    file: 'cifar-100-binary.tar.gz',
    md5: '03b5dce01913d631647c71ecec9e9cb8',
  },
};

const OFFICIAL_RECORDS: Record<string, number> = { train: 50_000, test: 10_000 };

export interface Cifar100Options {
  /** Records each split file must hold (official: train 50000, test 10000); null = any whole number. */
  expectedRecords?: Partial<Record<'train' | 'test', number>> | null;
}

/** The split with fine labels 0-99, decoded through the cache. */
async function loadFine(cfg: DatasetConfig, split: string, opts: Cifar100Options): Promise<ImageSplit> {
  if (!(split in OFFICIAL_RECORDS)) throw new Error(`cifar100: unknown split '${split}'; expected one of: train, test`);
  const expected =
    opts.expectedRecords === null
      ? undefined
      : (opts.expectedRecords?.[split as 'train' | 'test'] ?? OFFICIAL_RECORDS[split]);
  const loc = locateBinaryDataset(
    resolveDataRoot(cfg.root),
    'cifar-100-binary',
    'cifar-100-binary.tar.gz',
    CIFAR100_SOURCE,
  );
  const name = `${split}.bin`;
  return loadCachedSplit({
    cacheDir: resolveCacheDir(cfg.cache_dir),
    dataset: 'cifar100',
    split,
    sourceFiles: sourceFilesFor(loc, [name]),
    source: locationPath(loc),
    imageShape: { height: SIDE, width: SIDE },
    // decoded under these count rules: a relaxed decode (tests) must not satisfy an official open
    keyExtra: { expected: expected ?? null },
    async decode(writer) {
      const file = binaryFile(loc, name);
      const where = describeBinaryFile(file);
      const specs: RecordFileSpec[] = [
        {
          file,
          recordSize: CIFAR100_RECORD_BYTES,
          expectedRecords: expected,
          onRecords(block, count, first) {
            const images = new Uint8Array(count * PIXELS);
            const labels = new Int32Array(count);
            for (let r = 0; r < count; r++) {
              const off = r * CIFAR100_RECORD_BYTES;
              const coarse = block[off];
              const fine = block[off + 1];
              if (fine > 99) throw new Error(`${where}: record ${first + r}: fine label ${fine} out of range 0-99`);
              if (coarse > 19)
                throw new Error(`${where}: record ${first + r}: coarse label ${coarse} out of range 0-19`);
              if (FINE_TO_COARSE[fine] !== coarse)
                throw new Error(
                  `${where}: record ${first + r}: coarse label ${coarse} disagrees with fine label ${fine} ` +
                    `(${CIFAR100_FINE_CLASSES[fine]}), which belongs to superclass ${FINE_TO_COARSE[fine]}`,
                );
              labels[r] = fine;
              planarRowMajorToHwc(block, off + 2, images, r * PIXELS, SIDE, SIDE);
            }
            writer.append(images, labels);
          },
        },
      ];
      const fineNames = { text: null as string | null };
      const coarseNames = { text: null as string | null };
      const fineSpec = textFileSpec(loc, 'fine_label_names.txt', fineNames);
      const coarseSpec = textFileSpec(loc, 'coarse_label_names.txt', coarseNames);
      if (fineSpec) specs.push(fineSpec);
      if (coarseSpec) specs.push(coarseSpec);
      await readRecordFiles(specs);
      if (fineSpec) checkClassNames(describeBinaryFile(fineSpec.file), fineNames.text, CIFAR100_FINE_CLASSES);
      if (coarseSpec)
        checkClassNames(describeBinaryFile(coarseSpec.file), coarseNames.text, CIFAR100_COARSE_FILE_NAMES);
    },
  });
}

/** CIFAR-100 with its 100 fine classes. */
export function createCifar100Dataset(cfg: DatasetConfig, opts: Cifar100Options = {}): Dataset {
  return {
    name: 'cifar100',
    numClasses: 100,
    classNames: CIFAR100_FINE_CLASSES,
    splits: ['train', 'test'],
    imageSize: SIDE,
    // Normalisation comes from the config alone (configs/dataset/cifar100-20.yaml): it is in the config hash.
    mean: cfg.mean,
    std: cfg.std,
    load: (split) => loadFine(cfg, split, opts),
  };
}

/** CIFAR-100-20: the same images labelled with the 20 superclasses (SCAN's class names). */
export function createCifar20Dataset(cfg: DatasetConfig, opts: Cifar100Options = {}): Dataset {
  return {
    name: 'cifar20',
    numClasses: 20,
    classNames: CIFAR20_CLASSES,
    splits: ['train', 'test'],
    imageSize: SIDE,
    mean: cfg.mean,
    std: cfg.std,
    async load(split) {
      const fine = await loadFine(cfg, split, opts);
      return { ...fine, dataset: 'cifar20', labels: Int32Array.from(fine.labels, (f) => FINE_TO_COARSE[f]) };
    },
  };
}
