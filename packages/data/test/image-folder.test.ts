// Class-folder listing and image-file decoding shared by the folder readers (imagefolder, ImageNet).
import { mkdirSync, symlinkSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import sharp from 'sharp';
import { describe, expect, it } from 'vitest';
import {
  checkNumClasses,
  decodeCount,
  listClassFolderFiles,
  listSubfolders,
  loadFolderSplit,
  loadSplit,
  registerDataset,
  stratifiedSubsetIndices,
} from '../src/index';
import { decodeImageFile, decodeImagesInOrder, isImageFileName, resizedShape } from '../src/image-decode';
import { listImageFiles } from '../src/class-folders';
import type { DatasetConfig, DecodedImage } from '../src/dataset';
import { patternRgb, tempDir } from '@scan-repro/test-utils';

const tmp = tempDir('image-folder-test');

async function writePng(path: string, width: number, height: number, seed: number, channels: 1 | 3 | 4 = 3) {
  const rgb = patternRgb(width, height, seed);
  let px: Uint8Array = rgb;
  if (channels === 1) px = Uint8Array.from({ length: width * height }, (_, i) => rgb[i * 3]);
  if (channels === 4) {
    px = new Uint8Array(width * height * 4);
    for (let i = 0; i < width * height; i++) {
      px.set(rgb.subarray(i * 3, i * 3 + 3), i * 4);
      px[i * 4 + 3] = (i * 37) % 256; // varying alpha: must be dropped, not blended
    }
  }
  await sharp(Buffer.from(px), { raw: { width, height, channels } }).png().toFile(path);
}

describe('resizedShape (torchvision 0.5 Resize(int))', () => {
  it('sets the shorter side and truncates the longer one', () => {
    expect(resizedShape(375, 500, 256)).toEqual({ height: 256, width: 341 }); // 256*500/375 = 341.33
    expect(resizedShape(500, 333, 256)).toEqual({ height: 384, width: 256 }); // 256*500/333 = 384.38
    expect(resizedShape(64, 64, 256)).toEqual({ height: 256, width: 256 });
    expect(resizedShape(120, 50, 32)).toEqual({ height: 76, width: 32 }); // 76.8
    expect(resizedShape(10, 20, 0)).toEqual({ height: 10, width: 20 });
  });
});

describe('decodeImageFile', () => {
  it('decodes RGB exactly, greyscale to three equal channels, and drops alpha without blending', async () => {
    const rgbPath = join(tmp, 'rgb.png');
    const greyPath = join(tmp, 'grey.png');
    const rgbaPath = join(tmp, 'rgba.png');
    await writePng(rgbPath, 7, 5, 11, 3);
    await writePng(greyPath, 7, 5, 11, 1);
    await writePng(rgbaPath, 7, 5, 11, 4);
    const expected = patternRgb(7, 5, 11);

    const rgb = await decodeImageFile(rgbPath, 0);
    expect([rgb.height, rgb.width]).toEqual([5, 7]);
    expect(Array.from(rgb.data)).toEqual(Array.from(expected));

    const grey = await decodeImageFile(greyPath, 0);
    expect(grey.data.length).toBe(5 * 7 * 3);
    for (let i = 0; i < 35; i++)
      expect([grey.data[i * 3], grey.data[i * 3 + 1], grey.data[i * 3 + 2]]).toEqual([
        expected[i * 3],
        expected[i * 3],
        expected[i * 3],
      ]);

    const rgba = await decodeImageFile(rgbaPath, 0);
    expect(Array.from(rgba.data)).toEqual(Array.from(expected));
  });

  it('resizes the shorter side and keeps a constant image constant', async () => {
    const path = join(tmp, 'flat.png');
    const px = new Uint8Array(30 * 12 * 3);
    for (let i = 0; i < 30 * 12; i++) px.set([200, 100, 50], i * 3);
    await sharp(Buffer.from(px), { raw: { width: 30, height: 12, channels: 3 } })
      .png()
      .toFile(path);
    const img = await decodeImageFile(path, 8);
    expect([img.height, img.width]).toEqual([8, 20]); // 8 * 30 / 12 = 20
    for (let i = 0; i < 8 * 20; i++)
      expect([img.data[i * 3], img.data[i * 3 + 1], img.data[i * 3 + 2]]).toEqual([200, 100, 50]);
  });

  it('names the file and the accepted formats when it cannot decode', async () => {
    const bad = join(tmp, 'broken.png');
    writeFileSync(bad, 'this is not a png');
    await expect(decodeImageFile(bad, 0)).rejects.toThrow(`cannot decode image ${bad}`);
    await expect(decodeImageFile(bad, 0)).rejects.toThrow(/expected a readable JPEG, PNG or WebP/);
  });
});

describe('decodeImagesInOrder', () => {
  it('hands every image out once, in file order, across several windows', async () => {
    const dir = join(tmp, 'order');
    mkdirSync(dir);
    // 11 files with concurrency 2 = windows of 8: one full window and a partial one. Widths tell them apart.
    const files: string[] = [];
    for (let i = 0; i < 11; i++) {
      files.push(join(dir, `${i}.png`));
      await writePng(files[i], 1 + i, 2, i);
    }
    const seen: [number, DecodedImage][] = [];
    await decodeImagesInOrder(files, { resize: 0, concurrency: 2, onImage: (i, image) => seen.push([i, image]) });
    expect(seen.map(([i]) => i)).toEqual([0, 1, 2, 3, 4, 5, 6, 7, 8, 9, 10]);
    seen.forEach(([i, image]) => {
      expect(image.width).toBe(1 + i);
      expect(Array.from(image.data)).toEqual(Array.from(patternRgb(1 + i, 2, i)));
    });
  });

  it('rejects naming the first unreadable file', async () => {
    const ok = join(tmp, 'ok.png');
    await writePng(ok, 2, 2, 0);
    const bad = join(tmp, 'bad.jpg');
    writeFileSync(bad, 'not a jpeg');
    await expect(decodeImagesInOrder([ok, bad, ok], { resize: 0, onImage: () => {} })).rejects.toThrow(
      `cannot decode image ${bad}`,
    );
  });
});

describe('class-folder listing', () => {
  const root = join(tmp, 'classes');
  mkdirSync(join(root, 'zebra'), { recursive: true });
  mkdirSync(join(root, 'Mango'));
  mkdirSync(join(root, 'apple'));
  mkdirSync(join(root, '.hidden'));
  mkdirSync(join(root, 'empty'));
  symlinkSync(join(root, 'apple'), join(root, 'linked'));
  for (const f of ['b.JPG', 'a.png', 'c.webp', 'notes.txt', '.d.png', 'e.jpeg'])
    writeFileSync(join(root, 'zebra', f), '');
  writeFileSync(join(root, 'Mango', 'x.PNG'), '');
  writeFileSync(join(root, 'apple', 'y.jpg'), '');
  writeFileSync(join(root, 'stray.jpg'), '');

  it('sorts sub-folders by code point (Python sorted), follows links, skips hidden ones', () => {
    expect(listSubfolders(root)).toEqual(['Mango', 'apple', 'empty', 'linked', 'zebra']);
  });

  it('lists image files of any extension case, sorted by name, skipping others', () => {
    expect(listImageFiles(join(root, 'zebra'))).toEqual(
      ['a.png', 'b.JPG', 'c.webp', 'e.jpeg'].map((f) => join(root, 'zebra', f)),
    );
    expect(['x.JPEG', 'x.Webp', 'x.gif', 'x.jpg.txt'].map(isImageFileName)).toEqual([true, true, false, false]);
  });

  it('labels files by the position of their class in the given list', () => {
    const list = listClassFolderFiles(root, ['zebra', 'Mango']);
    expect(list.classNames).toEqual(['zebra', 'Mango']);
    expect(list.files).toEqual([
      ...['a.png', 'b.JPG', 'c.webp', 'e.jpeg'].map((f) => join(root, 'zebra', f)),
      join(root, 'Mango', 'x.PNG'),
    ]);
    expect(Array.from(list.labels)).toEqual([0, 0, 0, 0, 1]);
  });

  it('refuses a missing or empty class folder, naming it', () => {
    expect(() => listClassFolderFiles(root, ['apple', 'pear'])).toThrow(
      `class folder ${join(root, 'pear')} does not exist`,
    );
    expect(() => listClassFolderFiles(root, ['empty'])).toThrow(
      `class folder ${join(root, 'empty')} contains no image files`,
    );
  });

  it('checkNumClasses accepts 0 (= from the data) and the right count, and names the right value otherwise', () => {
    expect(() => checkNumClasses(0, 3, root)).not.toThrow();
    expect(() => checkNumClasses(3, 3, root)).not.toThrow();
    expect(() => checkNumClasses(5, 3, root)).toThrow(
      `dataset.num_classes is 5 but ${root} has 3 classes; set dataset.num_classes=3`,
    );
  });
});

describe('loadFolderSplit', () => {
  it('decodes a class-stratified subset once, then reads it from the cache', async () => {
    const root = join(tmp, 'split');
    const perClass = { a: 2, b: 4 };
    for (const [cls, n] of Object.entries(perClass)) {
      mkdirSync(join(root, cls), { recursive: true });
      for (let i = 0; i < n; i++) await writePng(join(root, cls, `${i}.png`), 3, 3, cls === 'a' ? i : 10 + i);
    }
    const files = listClassFolderFiles(root, ['a', 'b']);
    const spec = {
      dataset: 'folder-split-test',
      split: 'train',
      source: root,
      files,
      resize: 0,
      max: 3,
      subsetSeed: 0,
      cacheDir: join(tmp, 'cache'),
    };
    const before = decodeCount('folder-split-test');
    const split = await loadFolderSplit(spec);
    await loadFolderSplit(spec);
    expect(decodeCount('folder-split-test')).toBe(before + 1);
    // 3 of 6 in proportion 2:4 -> one of class a, two of class b.
    expect(split.size).toBe(3);
    expect(Array.from(split.labels)).toEqual([0, 1, 1]);
    expect(split.source).toBe(root);
    const kept = Array.from(split.originalIndices!);
    kept.forEach((orig, i) => {
      expect(split.labels[i]).toBe(files.labels[orig]);
      const seed = orig < 2 ? orig : 10 + (orig - 2);
      expect(Array.from(split.image(i).data)).toEqual(Array.from(patternRgb(3, 3, seed)));
    });
  });

  it('takes the same images as loadSplit takes from the full split (one subset formula)', async () => {
    const root = join(tmp, 'split-same');
    for (const cls of ['a', 'b', 'c']) {
      mkdirSync(join(root, cls), { recursive: true });
      for (let i = 0; i < 5; i++) await writePng(join(root, cls, `${i}.png`), 2, 2, i);
    }
    const files = listClassFolderFiles(root, ['a', 'b', 'c']);
    const folder = await loadFolderSplit({
      dataset: 'same-subset',
      split: 'train',
      source: root,
      files,
      resize: 0,
      max: 6,
      subsetSeed: 7,
      cacheDir: join(tmp, 'cache'),
    });
    registerDataset('same-subset-full', () => ({
      name: 'same-subset-full',
      numClasses: 3,
      classNames: ['a', 'b', 'c'],
      splits: ['train'],
      imageSize: 2,
      mean: [0, 0, 0],
      std: [1, 1, 1],
      load: async () => ({ ...folder, size: 15, labels: files.labels, originalIndices: undefined }),
    }));
    const cfg = { name: 'same-subset-full', max_train: 6, subset_seed: 7 } as DatasetConfig;
    const full = await loadSplit(cfg, 'train', { role: 'train' });
    // seed = subset_seed ^ FNV-1a('train') (2018864233, computed by hand)
    const expected = Array.from(stratifiedSubsetIndices(files.labels, 6, (7 ^ 2018864233) >>> 0));
    expect(Array.from(folder.originalIndices!)).toEqual(expected);
    expect(Array.from(full.originalIndices!)).toEqual(expected);
    expect(expected).not.toEqual(Array.from(stratifiedSubsetIndices(files.labels, 6, 7))); // the split name matters
  });
});
