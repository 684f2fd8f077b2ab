import { existsSync, mkdirSync, readdirSync, readFileSync, writeFileSync } from 'node:fs';
import { join, resolve } from 'node:path';
import sharp from 'sharp';
import { describe, expect, it } from 'vitest';
import { composeConfig } from '@scan-repro/core';
import { openDataset, repoRoot, type DatasetConfig } from '@scan-repro/data';
import { imagenetSubsetClasses, IMAGENET_SUBSETS } from '../src/subsets';
import { resolveImagenetLayout } from '../src/imagenet';
import { datasetConfig, tempDir } from '@scan-repro/test-utils';

// The real-image sample (14 of the imagenet_50 classes, Tiny-ImageNet JPEGs): see shared/data/README.md.
const SAMPLE = resolve(repoRoot(), '..', 'shared', 'data', 'imagenet-sample');
const haveSample = existsSync(join(SAMPLE, 'train'));

const tmp = tempDir('imagenet-test');

function config(overrides: Partial<DatasetConfig>): DatasetConfig {
  return datasetConfig({
    name: 'imagenet_50',
    root: SAMPLE,
    num_classes: 50,
    image_size: 224,
    crop_size: 224,
    mean: [0.485, 0.456, 0.406],
    std: [0.229, 0.224, 0.225],
    val_split: 'val',
    cache_dir: join(tmp, 'cache'),
    ...overrides,
  }) as DatasetConfig;
}

/** The wnids of a subset list file read straight from the text (not through the package's parser). */
function wnidsOfListFile(name: string): string[] {
  const text = readFileSync(new URL(`../subsets/${name}.txt`, import.meta.url), 'utf8');
  return text
    .split('\n')
    .filter(Boolean)
    .map((l) => l.split(' ')[0]);
}

describe('SCAN subset lists', () => {
  it('have 50/100/200 classes in file order, with names, nested as the paper says', () => {
    const [in50, in100, in200] = IMAGENET_SUBSETS.map((s) => imagenetSubsetClasses(s));
    expect([in50.length, in100.length, in200.length]).toEqual([50, 100, 200]);
    expect(in50[0]).toEqual({ wnid: 'n01601694', name: 'Dipper' });
    expect(in50[49]).toEqual({ wnid: 'n07753592', name: 'Banana' });
    expect(in100[0]).toEqual({ wnid: 'n01558993', name: 'robin, American robin, Turdus migratorius' });
    expect(in200[0].wnid).toBe('n01443537'); // goldfish
    for (const s of IMAGENET_SUBSETS) expect(imagenetSubsetClasses(s).map((c) => c.wnid)).toEqual(wnidsOfListFile(s));
    const set100 = new Set(in100.map((c) => c.wnid));
    const set200 = new Set(in200.map((c) => c.wnid));
    expect(in50.every((c) => set100.has(c.wnid))).toBe(true);
    expect(in100.every((c) => set200.has(c.wnid))).toBe(true);
  });
});

describe.skipIf(!haveSample)('imagenet sample (real JPEGs)', async () => {
  await import('../src/index');
  const presentWnids = readdirSync(join(SAMPLE, 'train')).sort();
  const list50 = wnidsOfListFile('imagenet_50');

  it('imagenet_50 fails listing exactly the 36 missing wnids and how many are present', () => {
    const expectedMissing = list50.filter((w) => !presentWnids.includes(w));
    expect(presentWnids.length).toBe(14);
    expect(expectedMissing.length).toBe(36);
    // As configs/dataset/imagenet_50.yaml spells it (name imagenet, subset imagenet_50) and as a dataset name.
    for (const spelling of [{ name: 'imagenet', subset: 'imagenet_50' }, { name: 'imagenet_50' }]) {
      let message = '';
      try {
        openDataset(config(spelling));
      } catch (err) {
        message = (err as Error).message;
      }
      expect(message).toMatch(/^imagenet_50: 36 of the 50 classes of subset imagenet_50 are missing \(14 present;/);
      expect(message).toContain('dataset.name=imagenet_sample dataset.num_classes=14');
      const listed = /Missing wnids: ([n0-9, ]+)\./.exec(message)![1].split(', ');
      expect(listed).toEqual(expectedMissing);
    }
  });

  it('imagenet_sample uses the 14 present classes in list order with 500 train / 50 val images each', async () => {
    const ds = openDataset(
      config({ name: 'imagenet_sample', root: resolve(SAMPLE, '..'), num_classes: 14, resize: 32 }),
    );
    const expectedOrder = list50.filter((w) => presentWnids.includes(w));
    const names = new Map(imagenetSubsetClasses('imagenet_50').map((c) => [c.wnid, c.name]));
    expect(ds.numClasses).toBe(14);
    expect(ds.classNames).toEqual(expectedOrder.map((w) => names.get(w)));
    expect(ds.classNames[0]).toBe('Scorpion');

    const val = await ds.load('val');
    expect(val.size).toBe(14 * 50);
    const counts = new Array(14).fill(0);
    for (const l of val.labels) counts[l]++;
    expect(counts).toEqual(new Array(14).fill(50));
    // Class-major, files sorted by name inside each class.
    expect(Array.from(val.labels)).toEqual(Array.from({ length: 700 }, (_, i) => Math.floor(i / 50)));
    // Image 50 is the first (sorted) val file of the second class, decoded independently here.
    const firstOfClass1 = readdirSync(join(SAMPLE, 'val', expectedOrder[1])).sort()[0];
    const ref = await sharp(join(SAMPLE, 'val', expectedOrder[1], firstOfClass1))
      .resize({ width: 32, height: 32, kernel: 'linear' })
      .raw()
      .toBuffer();
    expect(Buffer.from(val.image(50).data).equals(ref)).toBe(true);

    // Train via max_train: a class-stratified 140 of 7,000 -> 10 per class, only those decoded.
    const train = await openDataset(
      config({ name: 'imagenet_sample', root: resolve(SAMPLE, '..'), num_classes: 14, resize: 32, max_train: 140 }),
    ).load('train');
    const trainCounts = new Array(14).fill(0);
    for (const l of train.labels) trainCounts[l]++;
    expect(trainCounts).toEqual(new Array(14).fill(10));
    expect(readdirSync(join(SAMPLE, 'train', expectedOrder[0])).length).toBe(500);
  });

  it('a custom subset list: class index = line order, files sorted by name', async () => {
    const list = join(tmp, 'three.txt');
    const picked = [presentWnids[5], presentWnids[0], presentWnids[9]]; // deliberately not sorted
    writeFileSync(list, picked.map((w, i) => `${w} class ${i}`).join('\n') + '\n');
    const layout = resolveImagenetLayout(SAMPLE, { name: 'imagenet', subset: list, allowMissingClasses: false });
    expect(layout.classes.map((c) => c.wnid)).toEqual(picked);
    const ds = openDataset(config({ name: 'imagenet', subset: list, num_classes: 3, resize: 0, max_val: 6 }));
    const val = await ds.load('val');
    expect(Array.from(val.labels)).toEqual([0, 0, 1, 1, 2, 2]);
    // Without resize the 64x64 originals come back.
    expect(val.imageShape ?? { height: val.image(0).height, width: val.image(0).width }).toEqual({
      height: 64,
      width: 64,
    });
    const files0 = readdirSync(join(SAMPLE, 'val', picked[0])).sort();
    const idx = val.originalIndices!;
    expect(idx[1]).toBeGreaterThan(idx[0]); // file order kept inside the class
    const ref = await sharp(join(SAMPLE, 'val', picked[0], files0[idx[0]]))
      .raw()
      .toBuffer();
    expect(Buffer.from(val.image(0).data).equals(ref)).toBe(true);
  });

  it('the documented recipe composes with configs/dataset/imagenet_50.yaml (docs/adding-a-dataset.md)', () => {
    const base = ['dataset=imagenet_50', `dataset.cache_dir=${join(tmp, 'cache')}`];
    expect(() => openDataset(composeConfig([...base, `dataset.root=${SAMPLE}`]).dataset)).toThrow(
      /^imagenet_50: 36 of the 50 classes/,
    );
    // imagenet_sample finds <root>/imagenet-sample under the data root.
    base.push(`dataset.root=${resolve(SAMPLE, '..')}`);
    const cfg = composeConfig([
      ...base,
      'dataset.name=imagenet_sample',
      'dataset.num_classes=14',
      'dataset.resize=72',
      'dataset.image_size=64',
      'dataset.crop_size=64',
    ]).dataset;
    expect(cfg.subset).toBe('imagenet_50');
    const ds = openDataset(cfg);
    expect([ds.name, ds.numClasses, ds.splits]).toEqual(['imagenet_sample', 14, ['train', 'val']]);
  });

  it('a num_classes that disagrees with the present classes names the value to set', () => {
    expect(() => openDataset(config({ name: 'imagenet_sample', root: SAMPLE, num_classes: 50 }))).toThrow(
      /dataset.num_classes is 50 but imagenet_sample .* has 14 classes; set dataset.num_classes=14/,
    );
  });
});

/** A tiny ILSVRC-style folder with the official repo's folder names and non-square images. */
async function makeIlsvrcFolder(root: string, classes: string[], sizes: [number, number][]): Promise<void> {
  for (const [split, folder] of [
    ['train', 'ILSVRC2012_img_train'],
    ['val', 'ILSVRC2012_img_val'],
  ])
    for (const wnid of classes) {
      const dir = join(root, folder, wnid);
      mkdirSync(dir, { recursive: true });
      for (const [k, [w, h]] of sizes.entries()) {
        // Left half red, right half blue: the resize must keep that layout.
        const px = Buffer.alloc(w * h * 3);
        for (let y = 0; y < h; y++) for (let x = 0; x < w; x++) px[(y * w + x) * 3 + (x < w / 2 ? 0 : 2)] = 255;
        await sharp(px, { raw: { width: w, height: h, channels: 3 } })
          .jpeg({ quality: 95 })
          .toFile(join(dir, `${wnid}_${split}_${k}.JPEG`));
      }
    }
}

describe('ImageNet folder reader on generated ILSVRC2012_img_* folders', async () => {
  await import('../src/index');
  const root = join(tmp, 'ilsvrc');
  const classes = ['n02000000', 'n01000000'];
  await makeIlsvrcFolder(root, classes, [
    [90, 60],
    [50, 120],
    [64, 64],
  ]);

  it('full ImageNet: all wnid folders sorted, ILSVRC2012 folder names accepted', () => {
    const ds = openDataset(config({ name: 'imagenet', root, num_classes: 2 }));
    expect(ds.classNames).toEqual(['n01000000', 'n02000000']);
  });

  it('resizes the shorter side to dataset.resize, aspect kept (checked against sharp metadata)', async () => {
    const ds = openDataset(config({ name: 'imagenet', root, num_classes: 2, resize: 32 }));
    const train = await ds.load('train');
    expect(train.size).toBe(6);
    const dir = join(root, 'ILSVRC2012_img_train', 'n01000000');
    const files = readdirSync(dir).sort();
    for (let i = 0; i < 3; i++) {
      const meta = await sharp(join(dir, files[i])).metadata();
      const short = Math.min(meta.width!, meta.height!);
      const img = train.image(i);
      expect(Math.min(img.width, img.height)).toBe(32);
      const expectedLong = Math.floor((32 * Math.max(meta.width!, meta.height!)) / short);
      expect(Math.max(img.width, img.height)).toBe(expectedLong);
      expect(img.width >= img.height).toBe(meta.width! >= meta.height!);
      // Left edge red, right edge blue in the middle row.
      const row = Math.floor(img.height / 2) * img.width * 3;
      const left = img.data.subarray(row, row + 3);
      const right = img.data.subarray(row + (img.width - 1) * 3, row + img.width * 3);
      expect(left[0]).toBeGreaterThan(200);
      expect(left[2]).toBeLessThan(50);
      expect(right[2]).toBeGreaterThan(200);
      expect(right[0]).toBeLessThan(50);
    }
    // 90x60 -> 48x32, 50x120 -> 32x76, 64x64 -> 32x32 (hand-computed torchvision sizes), files sorted by name.
    expect([0, 1, 2].map((i) => [train.image(i).width, train.image(i).height])).toEqual([
      [48, 32],
      [32, 76],
      [32, 32],
    ]);
  });

  it('a bad JPEG fails naming the file', async () => {
    const broken = join(tmp, 'broken');
    await makeIlsvrcFolder(broken, ['n01000000'], [[20, 20]]);
    const bad = join(broken, 'ILSVRC2012_img_val', 'n01000000', 'n01000000_zz.JPEG');
    writeFileSync(bad, Buffer.concat([Buffer.from([0xff, 0xd8, 0xff, 0xe0]), Buffer.alloc(40, 7)]));
    const ds = openDataset(config({ name: 'imagenet', root: broken, num_classes: 1 }));
    await expect(ds.load('val')).rejects.toThrow(`cannot decode image ${bad}`);
  });

  it('missing folders are named', async () => {
    const empty = join(tmp, 'no-imagenet');
    mkdirSync(empty, { recursive: true });
    expect(() => openDataset(config({ name: 'imagenet', root: empty }))).toThrow(
      /no ImageNet train folder in .*no-imagenet or .*no-imagenet\/imagenet/,
    );
    const noVal = join(tmp, 'no-val');
    mkdirSync(join(noVal, 'train', 'n01000000'), { recursive: true });
    expect(() => openDataset(config({ name: 'imagenet', root: noVal, num_classes: 1 }))).toThrow(
      /no val folder \(val or ILSVRC2012_img_val\)/,
    );
    // A subset none of whose classes exist says so.
    expect(() => openDataset(config({ name: 'imagenet_100', root, num_classes: 100 }))).toThrow(
      /100 of the 100 classes .* No class of the list is present/,
    );
  });
});
