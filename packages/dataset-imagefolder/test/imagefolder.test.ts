import { mkdirSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import sharp from 'sharp';
import { describe, expect, it } from 'vitest';
import { decodeCount, openDataset, type DatasetConfig } from '@scan-repro/data';
import { imageFolderFiles, inspectImageFolder } from '../src/imagefolder';
import { datasetConfig, patternRgb, tempDir } from '@scan-repro/test-utils';

const tmp = tempDir('imagefolder-test');

function config(root: string, overrides: Partial<DatasetConfig> = {}): DatasetConfig {
  return datasetConfig({
    name: 'imagefolder',
    root,
    num_classes: 3,
    mean: [0.485, 0.456, 0.406],
    std: [0.229, 0.224, 0.225],
    val_split: 'val',
    cache_dir: join(tmp, 'cache'),
    ...overrides,
  }) as DatasetConfig;
}

async function writeImage(path: string, format: 'png' | 'jpeg' | 'webp', width: number, height: number, seed: number) {
  const img = sharp(Buffer.from(patternRgb(width, height, seed)), { raw: { width, height, channels: 3 } });
  const out =
    format === 'png' ? img.png() : format === 'jpeg' ? img.jpeg({ quality: 95 }) : img.webp({ lossless: true });
  await out.toFile(path);
}

/** root/<split>/<class>/<i>.<ext> with `perClass[class]` images; formats cycle png, jpeg, webp. */
async function makeFolder(root: string, splits: string[], perClass: Record<string, number>) {
  const formats = ['png', 'jpeg', 'webp'] as const;
  const ext = { png: 'png', jpeg: 'JPG', webp: 'webp' };
  let seed = 0;
  for (const split of splits)
    for (const [cls, n] of Object.entries(perClass)) {
      const dir = split ? join(root, split, cls) : join(root, cls);
      mkdirSync(dir, { recursive: true });
      for (let i = 0; i < n; i++) {
        const f = formats[(i + seed) % 3];
        await writeImage(join(dir, `img_${String(i).padStart(2, '0')}.${ext[f]}`), f, 12 + i, 10, seed++);
      }
    }
}

describe('imagefolder with train/ and val/ sub-folders', async () => {
  const root = join(tmp, 'split-folders');
  // Code-point order puts 'Mango' before 'apple' before 'zebra' (Python sorted(), torchvision ImageFolder).
  await makeFolder(root, ['train', 'val'], { zebra: 4, apple: 3, Mango: 2 });
  await import('../src/index');

  it('takes class names from the sorted folder names and labels images by them', async () => {
    const ds = openDataset(config(root));
    expect(ds.name).toBe('imagefolder');
    expect(ds.classNames).toEqual(['Mango', 'apple', 'zebra']);
    expect(ds.numClasses).toBe(3);
    const train = await ds.load('train');
    expect(train.size).toBe(9);
    expect(Array.from(train.labels)).toEqual([0, 0, 1, 1, 1, 2, 2, 2, 2]);
    expect(train.source).toBe(join(root, 'train'));
  });

  it('decodes PNG and lossless WebP exactly and JPEG closely, in file-name order', async () => {
    const train = await openDataset(config(root)).load('train');
    const files = imageFolderFiles(inspectImageFolder(root), 'train').files;
    for (let i = 0; i < train.size; i++) {
      const img = train.image(i);
      const { data, info } = await sharp(files[i]).raw().toBuffer({ resolveWithObject: true });
      expect([img.height, img.width]).toEqual([info.height, info.width]);
      if (/\.(png|webp)$/.test(files[i])) {
        // Independent check: the pattern we wrote, pixel for pixel.
        const m = /img_(\d+)/.exec(files[i])!;
        expect(img.width).toBe(12 + Number(m[1]));
        expect(Buffer.from(img.data).equals(Buffer.from(data))).toBe(true);
      } else {
        let maxDiff = 0;
        for (let k = 0; k < data.length; k++) maxDiff = Math.max(maxDiff, Math.abs(data[k] - img.data[k]));
        expect(maxDiff).toBe(0); // same libjpeg decode, no resize
      }
    }
  });

  it('reads the second time from the decoded cache', async () => {
    const before = decodeCount('imagefolder');
    const val = await openDataset(config(root)).load('val');
    expect(val.size).toBe(9);
    await openDataset(config(root)).load('val');
    expect(decodeCount('imagefolder')).toBe(before + 1);
  });

  it('resizes the shorter side to dataset.resize and keeps the aspect ratio', async () => {
    const val = await openDataset(config(root, { resize: 20 })).load('val');
    const files = imageFolderFiles(inspectImageFolder(root), 'val').files;
    for (let i = 0; i < val.size; i++) {
      const meta = await sharp(files[i]).metadata();
      // Source images are (12+i) x 10: height is the shorter side -> 20, width = int(20 * w / 10).
      expect(meta.height).toBe(10);
      expect(val.image(i).height).toBe(20);
      expect(val.image(i).width).toBe(Math.floor((20 * meta.width!) / 10));
    }
  });

  it('applies max_train as a class-stratified subset before decoding', async () => {
    const train = await openDataset(config(root, { max_train: 6 })).load('train');
    expect(train.size).toBe(6);
    // 6 of 9 proportional to 2/3/4 images: 1.33, 2, 2.67 -> 1, 2, 2 plus one slot to the largest remainder.
    const counts = [0, 0, 0];
    for (const l of train.labels) counts[l]++;
    expect(counts).toEqual([1, 2, 3]);
    expect(train.originalIndices).toBeDefined();
    for (let i = 0; i < train.size; i++) {
      expect(train.labels[i]).toBe([0, 0, 1, 1, 1, 2, 2, 2, 2][train.originalIndices![i]]);
    }
  });

  it('rejects a num_classes that differs from the folder', () => {
    expect(() => openDataset(config(root, { num_classes: 5 }))).toThrow(
      /dataset.num_classes is 5 .* has 3 classes; set dataset.num_classes=3/,
    );
  });
});

describe('imagefolder with only class folders (seeded hold-out)', async () => {
  const root = join(tmp, 'single-folder');
  await makeFolder(root, [''], { cat: 10, dog: 20, eel: 1 });

  it('holds out 10% of each class (at least one) as val, disjoint from train', async () => {
    const info = inspectImageFolder(root);
    expect(info.layout).toBe('single-folder');
    const train = imageFolderFiles(info, 'train');
    const val = imageFolderFiles(info, 'val');
    const count = (labels: Int32Array, c: number) => labels.filter((l) => l === c).length;
    expect([0, 1, 2].map((c) => count(val.labels, c))).toEqual([1, 2, 0]);
    expect([0, 1, 2].map((c) => count(train.labels, c))).toEqual([9, 18, 1]);
    const all = new Set([...train.files, ...val.files]);
    expect(all.size).toBe(31);
    // Deterministic: the same files every time.
    expect(imageFolderFiles(inspectImageFolder(root), 'val').files).toEqual(val.files);
  });
});

describe('imagefolder errors name the file or folder', async () => {
  it('a missing root', () => {
    expect(() => inspectImageFolder(join(tmp, 'nope'))).toThrow(/dataset.root: image folder .*nope does not exist/);
  });

  it('a folder without class folders', () => {
    const root = join(tmp, 'empty');
    mkdirSync(root, { recursive: true });
    expect(() => inspectImageFolder(root)).toThrow(/empty has no class sub-folders/);
  });

  it('a class folder without images', async () => {
    const root = join(tmp, 'empty-class');
    await makeFolder(root, ['train', 'val'], { a: 1 });
    mkdirSync(join(root, 'train', 'b'));
    mkdirSync(join(root, 'val', 'b'));
    writeFileSync(join(root, 'train', 'b', 'notes.txt'), 'no images here');
    const info = inspectImageFolder(root);
    expect(() => imageFolderFiles(info, 'train')).toThrow(/class folder .*train\/b contains no image files/);
  });

  it('train/ and val/ with different class sets', async () => {
    const root = join(tmp, 'mixed');
    await makeFolder(root, ['train'], { cat: 1, dog: 1 });
    await makeFolder(root, ['val'], { cat: 1, eel: 1 });
    expect(() => inspectImageFolder(root)).toThrow(/only in train\/: dog; only in val\/: eel/);
  });

  it('train/ without val/', async () => {
    const root = join(tmp, 'no-val');
    await makeFolder(root, ['train'], { cat: 1 });
    expect(() => inspectImageFolder(root)).toThrow(/no-val\/val is missing/);
  });

  it('an unreadable image', async () => {
    const root = join(tmp, 'broken');
    await makeFolder(root, ['train', 'val'], { cat: 2 });
    const bad = join(root, 'train', 'cat', 'img_99.png');
    writeFileSync(bad, Buffer.from('this is not a png'));
    const ds = openDataset(config(root, { num_classes: 1 }));
    await expect(ds.load('train')).rejects.toThrow(`cannot decode image ${bad}`);
  });
});
