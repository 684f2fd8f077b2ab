// CIFAR-10 on the real shared archive: counts, labels and pixels against the raw record bytes, which this
// test reads itself from a copy extracted with the system `tar` (not our reader). The decode goes through the
// repo's decoded-data cache (.cache/datasets), so only the first run on a machine pays for it.
import { execFileSync } from 'node:child_process';
import { readFileSync, readdirSync } from 'node:fs';
import { join } from 'node:path';
import { beforeAll, describe, expect, it } from 'vitest';
import {
  decodeCount,
  inspectDataset,
  openDataset,
  resolveDataRoot,
  type DatasetConfig,
  type ImageSplit,
} from '@scan-repro/data';
import { CIFAR10_CLASSES, createCifar10Dataset } from '../src/cifar10';
import { datasetConfig, tempDir, testTempDir } from '@scan-repro/test-utils';
import '../src/index'; // registers 'cifar10' for openDataset

const ARCHIVE = join(resolveDataRoot(), 'cifar-10-binary.tar.gz');
const RECORD = 3073;

function config(over: Partial<DatasetConfig> = {}): DatasetConfig {
  return datasetConfig({ root: '', cache_dir: '.cache/datasets', ...over }) as DatasetConfig;
}

/** Pixel (y, x, c) of a raw record, straight from the format definition. */
function rawPixel(rec: Uint8Array, y: number, x: number, c: number): number {
  return rec[1 + c * 1024 + y * 32 + x];
}

// No skip when the archive is missing: the shared data is part of the test setup (CI has it read-only), and a
// missing file fails here with the reader's missing-data message.
describe('CIFAR-10 (shared real archive)', () => {
  const extracted = tempDir('scan-cifar10-raw');
  let train: ImageSplit;
  let test: ImageSplit;
  const batches: Buffer[] = [];
  let testBatch: Buffer;

  beforeAll(async () => {
    const ds = openDataset(config());
    train = await ds.load('train');
    test = await ds.load('test');
    execFileSync('tar', ['-xzf', ARCHIVE, '-C', extracted]);
    const dir = join(extracted, 'cifar-10-batches-bin');
    for (let b = 1; b <= 5; b++) batches.push(readFileSync(join(dir, `data_batch_${b}.bin`)));
    testBatch = readFileSync(join(dir, 'test_batch.bin'));
  });

  it('has 50,000 train and 10,000 test images, 5,000 / 1,000 per class, 32x32', async () => {
    const r = await inspectDataset(config());
    expect(r.classNames).toEqual(CIFAR10_CLASSES);
    const [tr, te] = r.splits;
    expect([tr.split, tr.size, te.split, te.size]).toEqual(['train', 50_000, 'test', 10_000]);
    expect(tr.classCounts).toEqual(new Array(10).fill(5_000));
    expect(te.classCounts).toEqual(new Array(10).fill(1_000));
    expect(tr.imageShape).toEqual({ height: 32, width: 32 });
    expect(tr.source).toBe(ARCHIVE);
  });

  it('labels equal the label bytes of every record, in batch order', () => {
    for (let i = 0; i < 50_000; i++) {
      const rec = batches[Math.floor(i / 10_000)];
      if (train.labels[i] !== rec[(i % 10_000) * RECORD]) throw new Error(`train label ${i} differs`);
    }
    for (let i = 0; i < 10_000; i++)
      if (test.labels[i] !== testBatch[i * RECORD]) throw new Error(`test label ${i} differs`);
  });

  it('pixels equal the raw record bytes (CHW planes → HWC) at spot-checked images', () => {
    const picks = [0, 1, 9_999, 10_000, 23_456, 39_999, 40_000, 49_999];
    for (const i of picks) {
      const rec = batches[Math.floor(i / 10_000)].subarray((i % 10_000) * RECORD, ((i % 10_000) + 1) * RECORD);
      const img = train.image(i);
      expect([img.height, img.width, img.data.length]).toEqual([32, 32, 3072]);
      for (let y = 0; y < 32; y++)
        for (let x = 0; x < 32; x++)
          for (let c = 0; c < 3; c++)
            if (img.data[(y * 32 + x) * 3 + c] !== rawPixel(rec, y, x, c))
              throw new Error(`train ${i} (${y},${x},${c})`);
    }
    for (const i of [0, 5_000, 9_999]) {
      const rec = testBatch.subarray(i * RECORD, (i + 1) * RECORD);
      const img = test.image(i);
      expect(img.data[0]).toBe(rawPixel(rec, 0, 0, 0));
      expect(img.data[(31 * 32 + 31) * 3 + 2]).toBe(rawPixel(rec, 31, 31, 2));
      expect(img.data[(7 * 32 + 20) * 3 + 1]).toBe(rawPixel(rec, 7, 20, 1));
    }
  });

  it('reads the extracted cifar-10-batches-bin/ folder identically to the archive, and caches it', async () => {
    const cacheDir = testTempDir('scan-cifar10-cache');
    const cfg = config({ root: extracted, cache_dir: cacheDir });
    const before = decodeCount('cifar10');
    const fromDir = await createCifar10Dataset(cfg).load('test');
    expect(decodeCount('cifar10')).toBe(before + 1);
    expect(fromDir.source).toBe(join(extracted, 'cifar-10-batches-bin'));
    expect(fromDir.labels).toEqual(test.labels);
    for (const i of [0, 4_321, 9_999]) expect(fromDir.image(i).data).toEqual(test.image(i).data);
    const again = await createCifar10Dataset(cfg).load('test');
    expect(decodeCount('cifar10')).toBe(before + 1); // served from the cache
    expect(again.image(777).data).toEqual(test.image(777).data);
    expect(readdirSync(join(cacheDir, 'cifar10')).sort()).toEqual(
      expect.arrayContaining([
        expect.stringMatching(/^test-[0-9a-f]{16}\.json$/),
        expect.stringMatching(/^test-[0-9a-f]{16}\.images\.bin$/),
      ]),
    );
  });
});

describe('CIFAR-10 normalisation', () => {
  it("is the config's dataset.mean / std (the one place they are set)", () => {
    const ds = createCifar10Dataset(config({ mean: [0.1, 0.2, 0.3], std: [0.4, 0.5, 0.6] }));
    expect([ds.mean, ds.std]).toEqual([
      [0.1, 0.2, 0.3],
      [0.4, 0.5, 0.6],
    ]);
  });
});
