import { existsSync, readdirSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { describe, expect, it } from 'vitest';
import { decodeCount, loadCachedSplit } from '../src/index';
import { fingerprintFile } from '../src/cache';
import { tempDirs } from '@scan-repro/test-utils';

const tmp = tempDirs('scan-cache-test');

describe('decoded-data cache', () => {
  it('stores variable-size images with their shapes', async () => {
    const dir = tmp();
    const src = join(dir, 'src.bin');
    writeFileSync(src, 'source');
    const opts = {
      cacheDir: join(dir, 'cache'),
      dataset: 'var',
      split: 'train',
      sourceFiles: [src],
      source: src,
      imageShape: null,
      async decode(w: import('../src/cache').SplitWriter) {
        w.appendImage({ data: Uint8Array.from({ length: 2 * 3 * 3 }, (_, i) => i), height: 2, width: 3 }, 4);
        w.appendImage({ data: Uint8Array.from({ length: 1 * 1 * 3 }, () => 200), height: 1, width: 1 }, -1);
      },
    };
    const before = decodeCount('var');
    const s = await loadCachedSplit(opts);
    const again = await loadCachedSplit(opts);
    expect(decodeCount('var')).toBe(before + 1);
    for (const split of [s, again]) {
      expect(split.size).toBe(2);
      expect(Array.from(split.labels)).toEqual([4, -1]);
      expect(split.imageShape).toBeNull();
      const a = split.image(0);
      expect([a.height, a.width, a.data[17]]).toEqual([2, 3, 17]);
      const b = split.image(1);
      expect([b.height, b.width, ...b.data]).toEqual([1, 1, 200, 200, 200]);
    }
  });

  it('a failing decode leaves no files, and the error passes through', async () => {
    const dir = tmp();
    const src = join(dir, 'src.bin');
    writeFileSync(src, 'x');
    await expect(
      loadCachedSplit({
        cacheDir: join(dir, 'cache'),
        dataset: 'broken',
        split: 'train',
        sourceFiles: [src],
        source: src,
        imageShape: { height: 1, width: 1 },
        async decode(w) {
          w.append(Uint8Array.from([1, 2, 3]), [0]);
          throw new Error('src.bin: record 1: label 99 out of range');
        },
      }),
    ).rejects.toThrow('src.bin: record 1: label 99 out of range');
    expect(readdirSync(join(dir, 'cache', 'broken'))).toEqual([]);
  });

  it('a header with mismatching byte counts (damaged entry) is not trusted', async () => {
    const dir = tmp();
    const src = join(dir, 'src.bin');
    writeFileSync(src, 'abc');
    const opts = {
      cacheDir: join(dir, 'cache'),
      dataset: 'dmg',
      split: 'test',
      sourceFiles: [src],
      source: src,
      imageShape: { height: 1, width: 1 },
      async decode(w: import('../src/cache').SplitWriter) {
        w.append(Uint8Array.from([9, 8, 7]), [3]);
      },
    };
    await loadCachedSplit(opts);
    const images = readdirSync(join(dir, 'cache', 'dmg')).find((f) => f.endsWith('.images.bin'))!;
    writeFileSync(join(dir, 'cache', 'dmg', images), Uint8Array.from([9, 8])); // truncated cache file
    const before = decodeCount('dmg');
    const s = await loadCachedSplit(opts);
    expect(decodeCount('dmg')).toBe(before + 1);
    expect(Array.from(s.image(0).data)).toEqual([9, 8, 7]);
  });

  it('fingerprints size, mtime and both ends of a file', async () => {
    const dir = tmp();
    const f = join(dir, 'big.bin');
    const data = new Uint8Array(3 << 20);
    writeFileSync(f, data);
    const a = await fingerprintFile(f);
    data[data.length - 1] = 1;
    writeFileSync(f, data);
    const b = await fingerprintFile(f);
    expect(b.tailSha256).not.toBe(a.tailSha256);
    expect(b.headSha256).toBe(a.headSha256);
    expect(a.size).toBe(3 << 20);
    expect(existsSync(f)).toBe(true);
  });
});
