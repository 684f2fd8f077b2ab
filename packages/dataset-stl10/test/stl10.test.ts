// STL-10 on files this test writes in the official binary format (the real data is not available here):
// column-major 3x96x96 images, labels 1-10, the unlabelled split, train+unlabeled, errors, missing data.
import { mkdirSync, readdirSync, existsSync, truncateSync, writeFileSync } from 'node:fs';
import { createServer, type AddressInfo } from 'node:net';
import { join } from 'node:path';
import { describe, expect, it } from 'vitest';
import { decodeCount, openDataset, prepareDataset, type DatasetConfig } from '@scan-repro/data';
import { createStl10Dataset, STL10_CLASSES } from '../src/stl10';
import { datasetConfig, tempDirs } from '@scan-repro/test-utils';
import '../src/index'; // registers 'stl10' for openDataset

const tmp = tempDirs('scan-stl');
function config(root: string, cacheDir: string): DatasetConfig {
  return datasetConfig({
    name: 'stl10',
    root,
    image_size: 96,
    crop_size: 96,
    mean: [0.485, 0.456, 0.406],
    std: [0.229, 0.224, 0.225],
    pretext_splits: ['train', 'unlabeled'],
    cache_dir: cacheDir,
  }) as DatasetConfig;
}

const N = { train: 6, test: 4, unlabeled: 5 };
const small = { expectedRecords: N };
const IMG = 3 * 96 * 96;

function makeImages(n: number, seed: number): Uint8Array {
  const out = new Uint8Array(n * IMG);
  let s = seed >>> 0;
  for (let i = 0; i < out.length; i++) out[i] = (s = (Math.imul(s, 1664525) + 1013904223) >>> 0) >>> 24;
  return out;
}

function writeStl(root: string): { X: Record<string, Uint8Array>; y: Record<string, Uint8Array>; dir: string } {
  const dir = join(root, 'stl10_binary');
  mkdirSync(dir, { recursive: true });
  const X = { train: makeImages(N.train, 1), test: makeImages(N.test, 2), unlabeled: makeImages(N.unlabeled, 3) };
  // image 0 of train: red channel's first stored column (the first 96 bytes) all 255, everything else 0
  X.train.fill(0, 0, IMG);
  X.train.fill(255, 0, 96);
  const y = { train: Uint8Array.from([1, 10, 3, 4, 5, 6]), test: Uint8Array.from([2, 2, 9, 10]) };
  for (const s of ['train', 'test', 'unlabeled'] as const) writeFileSync(join(dir, `${s}_X.bin`), X[s]);
  writeFileSync(join(dir, 'train_y.bin'), y.train);
  writeFileSync(join(dir, 'test_y.bin'), y.test);
  writeFileSync(join(dir, 'class_names.txt'), STL10_CLASSES.join('\n') + '\n');
  return { X, y, dir };
}

describe('STL-10 binary reader (generated files)', () => {
  const root = tmp('ok');
  const cache = tmp('ok-cache');
  const { X, y } = writeStl(root);

  it('converts column-major storage: the first stored 96 bytes are the first column, not the first row', async () => {
    const img = (await createStl10Dataset(config(root, cache), small).load('train')).image(0);
    expect([img.height, img.width]).toEqual([96, 96]);
    for (let r = 0; r < 96; r++) expect(img.data[(r * 96 + 0) * 3 + 0]).toBe(255); // column 0, every row
    expect(img.data[(0 * 96 + 1) * 3 + 0]).toBe(0); // row 0, column 1
    expect(img.data[(0 * 96 + 0) * 3 + 1]).toBe(0); // green
  });

  it('round-trips every pixel (numpy reshape(3,96,96).transpose(2,1,0) semantics) and maps labels 1-10 to 0-9', async () => {
    const ds = createStl10Dataset(config(root, cache), small);
    for (const s of ['train', 'test', 'unlabeled'] as const) {
      const split = await ds.load(s);
      expect(split.size).toBe(N[s]);
      expect(Array.from(split.labels)).toEqual(
        s === 'unlabeled' ? new Array(N[s]).fill(-1) : Array.from(y[s], (v) => v - 1),
      );
      for (let i = 0; i < N[s]; i++) {
        const img = split.image(i).data;
        const raw = X[s].subarray(i * IMG);
        for (let c = 0; c < 3; c++)
          for (let col = 0; col < 96; col++)
            for (let row = 0; row < 96; row++)
              if (img[(row * 96 + col) * 3 + c] !== raw[c * 9216 + col * 96 + row])
                throw new Error(`${s} ${i} (${row},${col},${c})`);
      }
    }
  });

  it('train+unlabeled is train followed by unlabeled (5k + 100k for the pretext task)', async () => {
    const ds = openDataset(config(root, cache));
    expect(ds.splits).toEqual(['train', 'test', 'unlabeled', 'train+unlabeled']);
    const both = await createStl10Dataset(config(root, cache), small).load('train+unlabeled');
    expect(both.size).toBe(N.train + N.unlabeled);
    expect(Array.from(both.labels)).toEqual([0, 9, 2, 3, 4, 5, -1, -1, -1, -1, -1]);
    const unl = await createStl10Dataset(config(root, cache), small).load('unlabeled');
    expect(both.image(N.train + 2).data).toEqual(unl.image(2).data);
    expect(Array.from(both.originalIndices!)).toEqual([0, 1, 2, 3, 4, 5, 6, 7, 8, 9, 10]);
  });

  it('decodes once: later opens read the cache', async () => {
    const cacheDir = tmp('cache');
    const before = decodeCount('stl10');
    await createStl10Dataset(config(root, cacheDir), small).load('test');
    await createStl10Dataset(config(root, cacheDir), small).load('test');
    expect(decodeCount('stl10')).toBe(before + 1);
  });

  it('keeps splits larger than the in-memory limit on disk, read per image, with the same pixels', async () => {
    const { loadCachedSplit } = await import('@scan-repro/data');
    const cacheDir = tmp('disk');
    const mk = (limit: number) =>
      loadCachedSplit({
        cacheDir,
        dataset: 'synthetic',
        split: 'big',
        sourceFiles: [join(root, 'stl10_binary', 'unlabeled_X.bin')],
        source: 'x',
        imageShape: { height: 2, width: 2 },
        inMemoryLimitBytes: limit,
        async decode(w) {
          w.append(
            Uint8Array.from({ length: 36 }, (_, i) => i),
            [0, 1, 2],
          );
        },
      });
    const mem = await mk(1 << 30);
    const disk = await mk(10);
    for (let i = 0; i < 3; i++) expect(disk.image(i).data).toEqual(mem.image(i).data);
    expect(Array.from(disk.image(2).data)).toEqual([24, 25, 26, 27, 28, 29, 30, 31, 32, 33, 34, 35]);
  });
});

describe('STL-10 errors', () => {
  async function expectError(split: string, write: (dir: string) => void, pattern: RegExp): Promise<void> {
    const root = tmp('bad');
    const cacheDir = tmp('bad-cache');
    write(writeStl(root).dir);
    await expect(createStl10Dataset(config(root, cacheDir), small).load(split)).rejects.toThrow(pattern);
    const d = join(cacheDir, 'stl10');
    expect(existsSync(d) ? readdirSync(d) : []).toEqual([]);
  }
  it('label outside 1-10', () =>
    expectError(
      'train',
      (d) => writeFileSync(join(d, 'train_y.bin'), Uint8Array.from([1, 2, 0, 4, 5, 6])),
      /train_y\.bin: label 2: 0 out of range 1-10/,
    ));
  it('label count differs from the image count', () =>
    expectError(
      'test',
      (d) => writeFileSync(join(d, 'test_y.bin'), Uint8Array.from([1, 2, 3])),
      /test_y\.bin: wrong record count: expected 4 records of 1 bytes, found 3/,
    ));
  it('truncated image file', () =>
    expectError(
      'unlabeled',
      (d) => truncateSync(join(d, 'unlabeled_X.bin'), 2 * IMG + 5),
      /unlabeled_X\.bin: corrupt or truncated: 55301 bytes is not a multiple of the 27648-byte record/,
    ));
  it('official counts are enforced by the registered reader', async () => {
    const root = tmp('official');
    writeStl(root);
    await expect(openDataset(config(root, tmp('official-cache'))).load('test')).rejects.toThrow(
      /wrong record count: expected 8000 records of 1 bytes, found 4/,
    );
  });
  it('unknown split', async () => {
    await expect(createStl10Dataset(config(tmp('x'), tmp('y'))).load('val')).rejects.toThrow(
      /stl10: unknown split 'val'; expected one of: train, test, unlabeled, train\+unlabeled/,
    );
  });
});

describe('missing STL-10 data', () => {
  it('load() names the expected folder / archive and the official URL', async () => {
    const root = tmp('empty');
    await expect(createStl10Dataset(config(root, tmp('c'))).load('train')).rejects.toThrow(
      `STL-10 (binary version) not found: expected ${join(root, 'stl10_binary')} or ${join(root, 'stl10_binary.tar.gz')}.`,
    );
  });
  it('prepare() without network stops with the file name and where to put it, leaving nothing behind', async () => {
    const root = tmp('prep');
    // a local port nobody listens on: the connection is refused at once, as without network
    const server = createServer();
    await new Promise<void>((r) => server.listen(0, '127.0.0.1', r));
    const port = (server.address() as AddressInfo).port;
    await new Promise((r) => server.close(r));
    const url = `http://127.0.0.1:${port}/stl10_binary.tar.gz`;
    const err = (await prepareDataset('stl10', root, { url, timeoutMs: 5_000 }).catch((e) => e)) as Error;
    expect(err).toBeInstanceOf(Error);
    expect(err.message).toContain(`Downloading ${url} failed: fetch failed (connect ECONNREFUSED`);
    expect(err.message).toContain(
      `Download http://ai.stanford.edu/~acoates/stl10/stl10_binary.tar.gz and put it at ${join(root, 'stl10_binary.tar.gz')}`,
    );
    expect(readdirSync(root)).toEqual([]);
  });
  it('prepare() offline (SCAN_OFFLINE=1 / offline option) does not try the network', async () => {
    const root = tmp('offline');
    await expect(prepareDataset('stl10', root, { offline: true })).rejects.toThrow(
      `STL-10 (binary version) not found: expected ${join(root, 'stl10_binary')} or ${join(root, 'stl10_binary.tar.gz')}. Offline (SCAN_OFFLINE=1): not downloading.`,
    );
  });
  it('prepare() finds data that is already there', async () => {
    const root = tmp('present');
    writeStl(root);
    expect(await prepareDataset('stl-10', root)).toEqual({ path: join(root, 'stl10_binary'), downloaded: false });
  });
});

describe('STL-10 normalisation', () => {
  it("is the config's dataset.mean / std (the one place they are set)", () => {
    const ds = createStl10Dataset({ ...config('', ''), mean: [0.1, 0.2, 0.3], std: [0.4, 0.5, 0.6] } as DatasetConfig);
    expect([ds.mean, ds.std]).toEqual([
      [0.1, 0.2, 0.3],
      [0.4, 0.5, 0.6],
    ]);
  });
});
