// CIFAR-100 / CIFAR-100-20 on files this test writes in the official binary format (the real data is not
// available here): exact round trip, the fine → coarse check, corrupt files, archives, and the cache.
import { execFileSync } from 'node:child_process';
import { existsSync, mkdirSync, readdirSync, truncateSync, utimesSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { describe, expect, it } from 'vitest';
import { decodeCount, openDataset, type DatasetConfig } from '@scan-repro/data';
import { CIFAR100_COARSE_FILE_NAMES, CIFAR100_FINE_CLASSES, CIFAR20_CLASSES, FINE_TO_COARSE } from '../src/labels';
import { createCifar100Dataset, createCifar20Dataset } from '../src/cifar100';
import { datasetConfig, lcgStream, tempDirs } from '@scan-repro/test-utils';
import '../src/index'; // registers 'cifar100' and 'cifar20' for openDataset

const tmp = tempDirs('scan-c100');

function config(root: string, cacheDir: string, name = 'cifar100'): DatasetConfig {
  return datasetConfig({
    name,
    root,
    num_classes: 100,
    mean: [0.5071, 0.4867, 0.4408],
    std: [0.2675, 0.2565, 0.2761],
    cache_dir: cacheDir,
  }) as DatasetConfig;
}

/** n records: coarse byte, fine byte, 3072 CHW pixel bytes. The coarse byte is the official superclass. */
function makeRecords(n: number, seed: number): { bytes: Uint8Array; fine: number[] } {
  const stream = lcgStream(seed);
  const next = () => Math.floor(stream() * 256);
  const bytes = new Uint8Array(n * 3074);
  const fine: number[] = [];
  for (let i = 0; i < n; i++) {
    const f = (i * 37 + seed) % 100;
    fine.push(f);
    bytes[i * 3074] = FINE_TO_COARSE[f];
    bytes[i * 3074 + 1] = f;
    for (let p = 2; p < 3074; p++) bytes[i * 3074 + p] = next();
  }
  return { bytes, fine };
}

function writeDataset(root: string, train: Uint8Array, test: Uint8Array): string {
  const dir = join(root, 'cifar-100-binary');
  mkdirSync(dir, { recursive: true });
  writeFileSync(join(dir, 'train.bin'), train);
  writeFileSync(join(dir, 'test.bin'), test);
  writeFileSync(join(dir, 'fine_label_names.txt'), CIFAR100_FINE_CLASSES.join('\n') + '\n');
  writeFileSync(join(dir, 'coarse_label_names.txt'), CIFAR100_COARSE_FILE_NAMES.join('\n') + '\n');
  return dir;
}

const small = { expectedRecords: { train: 40, test: 12 } };

describe('fine → coarse table', () => {
  it('matches the reference table rows (paper reference §5) and gives 5 fine classes per superclass', () => {
    // a few rows typed from the reference table, independently of the source's member lists
    expect([4, 30, 55, 72, 95].map((f) => FINE_TO_COARSE[f])).toEqual([0, 0, 0, 0, 0]);
    expect([41, 69, 81, 85, 89].map((f) => FINE_TO_COARSE[f])).toEqual([19, 19, 19, 19, 19]);
    expect([22, 39, 40, 86, 87].map((f) => FINE_TO_COARSE[f])).toEqual([5, 5, 5, 5, 5]);
    const counts = new Array(20).fill(0);
    for (const c of FINE_TO_COARSE) counts[c]++;
    expect(counts).toEqual(new Array(20).fill(5));
    expect(CIFAR20_CLASSES[6]).toBe('household furniture');
    expect(CIFAR100_FINE_CLASSES[FINE_TO_COARSE.indexOf(14)]).toBe('baby');
  });
});

describe('CIFAR-100 binary reader (generated files)', () => {
  const root = tmp('ok');
  const cache = tmp('ok-cache');
  const train = makeRecords(40, 3);
  const test = makeRecords(12, 8);
  const dir = writeDataset(root, train.bytes, test.bytes);

  it('round-trips images (CHW → HWC) and fine labels exactly; CIFAR-20 labels are the coarse bytes', async () => {
    const ds = createCifar100Dataset(config(root, cache), small);
    const split = await ds.load('train');
    expect(split.size).toBe(40);
    expect(Array.from(split.labels)).toEqual(train.fine);
    for (let i = 0; i < 40; i++) {
      const img = split.image(i);
      const rec = train.bytes.subarray(i * 3074);
      for (let y = 0; y < 32; y++)
        for (let x = 0; x < 32; x++)
          for (let c = 0; c < 3; c++)
            if (img.data[(y * 32 + x) * 3 + c] !== rec[2 + c * 1024 + y * 32 + x])
              throw new Error(`image ${i} differs`);
    }
    const c20 = await createCifar20Dataset(config(root, cache, 'cifar20'), small).load('test');
    expect(Array.from(c20.labels)).toEqual(Array.from({ length: 12 }, (_, i) => test.bytes[i * 3074]));
    expect(c20.dataset).toBe('cifar20');
    expect(c20.image(5).data).toEqual((await ds.load('test')).image(5).data);
  });

  it('is registered as cifar100 and cifar100-20 (config names) and checks the official record counts', async () => {
    const ds = openDataset(config(root, cache, 'cifar100-20'));
    expect([ds.name, ds.numClasses, ds.classNames[19]]).toEqual(['cifar20', 20, 'vehicles 2']);
    await expect(ds.load('train')).rejects.toThrow(
      /train\.bin: wrong record count: expected 50000 records of 3074 bytes, found 40/,
    );
  });

  it('serves a second open from the cache, and decodes again when the source changes', async () => {
    const cacheDir = tmp('cache');
    const before = decodeCount('cifar100');
    const a = await createCifar100Dataset(config(root, cacheDir), small).load('test');
    const b = await createCifar100Dataset(config(root, cacheDir), small).load('test');
    expect(decodeCount('cifar100')).toBe(before + 1);
    expect(b.image(11).data).toEqual(a.image(11).data);
    // rewrite test.bin with other pixels (same size) and a new mtime
    const changed = makeRecords(12, 99);
    writeFileSync(join(dir, 'test.bin'), changed.bytes);
    utimesSync(join(dir, 'test.bin'), new Date(), new Date(Date.now() + 5_000));
    const c = await createCifar100Dataset(config(root, cacheDir), small).load('test');
    expect(decodeCount('cifar100')).toBe(before + 2);
    expect(Array.from(c.labels)).toEqual(changed.fine);
    expect(c.image(0).data[0]).toBe(changed.bytes[2]);
    // the stale entry was removed: one entry (json + images + labels) for 'test'
    expect(readdirSync(join(cacheDir, 'cifar100')).filter((f) => f.startsWith('test-'))).toHaveLength(3);
    writeFileSync(join(dir, 'test.bin'), test.bytes);
  });

  it('reads cifar-100-binary.tar.gz (streamed, not extracted) the same as the folder', async () => {
    const arcRoot = tmp('arc');
    execFileSync('tar', ['-czf', join(arcRoot, 'cifar-100-binary.tar.gz'), '-C', root, 'cifar-100-binary']);
    const fromArc = await createCifar100Dataset(config(arcRoot, tmp('arc-cache')), small).load('train');
    const fromDir = await createCifar100Dataset(config(root, cache), small).load('train');
    expect(fromArc.source).toBe(join(arcRoot, 'cifar-100-binary.tar.gz'));
    expect(fromArc.labels).toEqual(fromDir.labels);
    for (let i = 0; i < 40; i++) expect(fromArc.image(i).data).toEqual(fromDir.image(i).data);
    expect(readdirSync(arcRoot)).toEqual(['cifar-100-binary.tar.gz']); // nothing extracted next to the source
  });
});

describe('CIFAR-100 corrupt input', () => {
  async function expectError(write: (dir: string) => void, pattern: RegExp): Promise<void> {
    const root = tmp('bad');
    const cacheDir = tmp('bad-cache');
    const dir = writeDataset(root, makeRecords(40, 1).bytes, makeRecords(12, 2).bytes);
    write(dir);
    await expect(createCifar100Dataset(config(root, cacheDir), small).load('train')).rejects.toThrow(pattern);
    // nothing partially decoded is cached
    const ds = join(cacheDir, 'cifar100');
    expect(existsSync(ds) ? readdirSync(ds) : []).toEqual([]);
  }

  it('rejects a record whose coarse byte disagrees with its fine label', async () => {
    await expectError((dir) => {
      const bytes = makeRecords(40, 1).bytes;
      bytes[17 * 3074] = (bytes[17 * 3074] + 1) % 20;
      writeFileSync(join(dir, 'train.bin'), bytes);
    }, /train\.bin: record 17: coarse label \d+ disagrees with fine label \d+/);
  });

  it('rejects a truncated file (size not a multiple of the record)', async () => {
    await expectError(
      (dir) => truncateSync(join(dir, 'train.bin'), 40 * 3074 - 100),
      /train\.bin: corrupt or truncated: 122860 bytes is not a multiple of the 3074-byte record/,
    );
  });

  it('rejects a fine label out of range', async () => {
    await expectError((dir) => {
      const bytes = makeRecords(40, 1).bytes;
      bytes[3 * 3074 + 1] = 100;
      writeFileSync(join(dir, 'train.bin'), bytes);
    }, /train\.bin: record 3: fine label 100 out of range 0-99/);
  });

  it('rejects a class-names file that is not the official list', async () => {
    await expectError(
      (dir) =>
        writeFileSync(join(dir, 'fine_label_names.txt'), ['zebra', ...CIFAR100_FINE_CLASSES.slice(1)].join('\n')),
      /fine_label_names\.txt: class names \[zebra, /,
    );
  });

  it('rejects a bad archive, naming it', async () => {
    const root = tmp('badarc');
    writeFileSync(
      join(root, 'cifar-100-binary.tar.gz'),
      Buffer.from('this is not gzip data at all, just text'.repeat(20)),
    );
    await expect(createCifar100Dataset(config(root, tmp('badarc-cache')), small).load('train')).rejects.toThrow(
      new RegExp(`${join(root, 'cifar-100-binary.tar.gz').replace(/[.]/g, '\\.')}: bad archive`),
    );
  });

  it('rejects an archive truncated mid-member, naming it', async () => {
    const src = tmp('trunc-src');
    writeDataset(src, makeRecords(40, 1).bytes, makeRecords(12, 2).bytes);
    const root = tmp('trunc');
    const arc = join(root, 'cifar-100-binary.tar.gz');
    execFileSync('tar', ['-czf', arc, '-C', src, 'cifar-100-binary']);
    truncateSync(arc, 30_000);
    await expect(createCifar100Dataset(config(root, tmp('trunc-cache')), small).load('train')).rejects.toThrow(
      /cifar-100-binary\.tar\.gz: bad archive: zlib: unexpected end of file/,
    );
  });
});

describe('CIFAR-100 / CIFAR-100-20 normalisation', () => {
  it("is the config's dataset.mean / std (the one place they are set)", () => {
    const cfg = { ...config('', ''), mean: [0.1, 0.2, 0.3], std: [0.4, 0.5, 0.6] } as DatasetConfig;
    for (const ds of [createCifar100Dataset(cfg), createCifar20Dataset(cfg)]) {
      expect([ds.mean, ds.std]).toEqual([
        [0.1, 0.2, 0.3],
        [0.4, 0.5, 0.6],
      ]);
    }
  });
});
