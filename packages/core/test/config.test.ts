import { cpSync, readdirSync, writeFileSync } from 'node:fs';
import { join, resolve } from 'node:path';
import { describe, expect, it } from 'vitest';
import { ConfigError, composeConfig, configHash, configToYaml, flattenConfig, stageHash } from '../src/index';
import { defaultConfigDir, listGroupChoices } from '../src/config';
import YAML from 'yaml';
import { OFFICIAL_AUGMENT, tempDirs } from '@scan-repro/test-utils';

const env = {}; // isolate from the caller's SCAN_DATA_DIR / MLFLOW_TRACKING_URI
const compose = (args: string[], extra: { configDir?: string; env?: NodeJS.ProcessEnv; cwd?: string } = {}) =>
  composeConfig(args, { env, ...extra });
const errorOf = (fn: () => unknown): ConfigError => {
  try {
    fn();
  } catch (e) {
    expect(e).toBeInstanceOf(ConfigError);
    return e as ConfigError;
  }
  throw new Error('expected a ConfigError');
};

const tmp = tempDirs('scan-configs');
function copyOfConfigs(): string {
  const dir = tmp();
  cpSync(defaultConfigDir(), join(dir, 'configs'), { recursive: true });
  return join(dir, 'configs');
}

describe('composition', () => {
  it('paper profile + cifar10 gives the reference §2 values', () => {
    const c = compose(['profile=paper']);
    expect(c.dataset.name).toBe('cifar10');
    expect(c.backbone).toEqual({ name: 'resnet18_cifar', width: 64, blocks: [2, 2, 2, 2] });
    expect(c.model).toEqual({ contrastive_hidden: 512, contrastive_dim: 128 });
    expect(c.pretext).toMatchObject({
      method: 'simclr',
      epochs: 500,
      batch_size: 512,
      optimizer: 'sgd',
      lr: 0.4,
      lr_min: 0.0004,
      momentum: 0.9,
      nesterov: false,
      weight_decay: 1e-4,
      temperature: 0.1,
      knn_k: 100,
    });
    expect(c.mine).toMatchObject({ k: 20, k_val: 5, features: 'head' });
    expect(c.scan).toMatchObject({
      num_clusters: 10,
      num_heads: 1,
      entropy_weight: 5,
      num_neighbors: 20,
      epochs: 50,
      batch_size: 128,
      optimizer: 'adam',
      lr: 1e-4,
      weight_decay: 1e-4,
      update_cluster_head_only: false,
      augmentation: 'ours',
    });
    expect(c.selflabel).toMatchObject({
      threshold: 0.99,
      class_balance: true,
      ema: false,
      epochs: 200,
      batch_size: 1000,
      optimizer: 'adam',
      lr: 1e-4,
      weight_decay: 1e-4,
    });
    expect(c.augment).toEqual(OFFICIAL_AUGMENT);
    expect(c.dataset.mean).toEqual([0.4914, 0.4822, 0.4465]);
    expect(c.dataset.std).toEqual([0.2023, 0.1994, 0.201]);
    expect(c.dataset).toMatchObject({
      max_train: 0,
      max_val: 0,
      image_size: 32,
      crop_size: 32,
      train_split: 'train',
      val_split: 'test',
    });
    expect(c.profile).toEqual({ name: 'paper', seed: 0 });
  });

  it('paper values of the other datasets (reference §2.2-2.6)', () => {
    const c100 = compose(['profile=paper', 'dataset=cifar100-20']);
    expect([c100.scan.num_clusters, c100.scan.epochs, c100.scan.batch_size, c100.selflabel.epochs]).toEqual([
      20, 100, 512, 200,
    ]);
    expect(c100.dataset.mean).toEqual([0.5071, 0.4867, 0.4408]);
    expect(c100.dataset.std).toEqual([0.2675, 0.2565, 0.2761]);

    const stl = compose(['profile=paper', 'dataset=stl10']);
    expect(stl.backbone.name).toBe('resnet18_stl'); // picked by the dataset file's own defaults list
    expect(stl.dataset).toMatchObject({
      image_size: 96,
      crop_size: 96,
      pretext_splits: ['train', 'unlabeled'],
      train_split: 'train',
      val_split: 'test',
    });
    expect([
      stl.scan.epochs,
      stl.scan.batch_size,
      stl.selflabel.epochs,
      stl.selflabel.batch_size,
      stl.augment.cutout,
    ]).toEqual([100, 128, 100, 1000, 32]);

    for (const [choice, classes, scanBatch] of [
      ['imagenet_50', 50, 512],
      ['imagenet_100', 100, 1024],
      ['imagenet_200', 200, 1024],
    ] as const) {
      const c = compose(['profile=paper', `dataset=${choice}`]);
      expect(c.backbone).toEqual({ name: 'resnet50', width: 64, blocks: [3, 4, 6, 3] });
      expect(c.model.contrastive_hidden).toBe(2048);
      expect(c.pretext.method).toBe('import');
      expect(c.dataset).toMatchObject({
        name: 'imagenet',
        subset: choice,
        num_classes: classes,
        resize: 256,
        crop_size: 224,
        val_split: 'val',
        mean: [0.485, 0.456, 0.406],
        std: [0.229, 0.224, 0.225],
      });
      expect(c.mine).toMatchObject({ k: 50, k_val: 5, features: 'backbone' });
      expect(c.scan).toMatchObject({
        num_clusters: classes,
        num_heads: 10,
        num_neighbors: 50,
        epochs: 100,
        batch_size: scanBatch,
        optimizer: 'sgd',
        lr: 5,
        weight_decay: 0,
        momentum: 0.9,
        nesterov: false,
        update_cluster_head_only: true,
        augmentation: 'simclr',
        entropy_weight: 5,
      });
      expect(c.selflabel).toMatchObject({
        threshold: 0.99,
        class_balance: false,
        ema: true,
        ema_alpha: 0.999,
        epochs: 25,
        batch_size: 512,
        optimizer: 'sgd',
        lr: 0.03,
        weight_decay: 0,
      });
      expect(c.augment.cutout).toBe(75);
      expect(c.eval.top5).toBe(true);
    }
  });

  it('applies layers in order: defaults < group files < profile < env < overrides', () => {
    // cifar10 sets scan.epochs 50, the cpu profile 15, an override wins over both.
    expect(compose(['profile=paper']).scan.epochs).toBe(50);
    expect(compose(['profile=cpu']).scan.epochs).toBe(15);
    expect(compose(['profile=cpu', 'scan.epochs=3']).scan.epochs).toBe(3);
    // The profile applies after the dataset even when the dataset is switched after it on the command line.
    expect(compose(['profile=ci', 'dataset=stl10']).backbone.width).toBe(8);
    // Later overrides win over earlier ones.
    expect(compose(['scan.lr=0.1', 'scan.lr=0.2']).scan.lr).toBe(0.2);
    // Env beats files, an override beats env.
    const e = { SCAN_DATA_DIR: '/data/here', MLFLOW_TRACKING_URI: 'http://mlflow:5000' };
    expect(compose([], { env: e }).dataset.root).toBe('/data/here');
    expect(compose([], { env: e }).tracking.uri).toBe('http://mlflow:5000');
    expect(compose(['dataset.root=/other'], { env: e }).dataset.root).toBe('/other');
    expect(compose(['tracking.uri=file:./mlruns'], { env: e }).tracking.uri).toBe('file:./mlruns');
  });

  it('a command-line group choice beats the one a dataset file implies', () => {
    const c = compose(['dataset=imagenet_50', 'backbone=resnet18_stl', 'pretext=simclr']);
    expect(c.backbone.name).toBe('resnet18_stl');
    expect(c.pretext.method).toBe('simclr');
  });

  it('parses override values as YAML: numbers, booleans, lists, strings, maps', () => {
    const c = compose([
      'scan.entropy_weight=2.5',
      'scan.update_cluster_head_only=true',
      'dataset.mean=[0.5, 0.5, 0.5]',
      'tracking.run_name=123',
      'tracking.tags.owner=me',
      'tracking.tags.note=x',
      'dataset.subset=',
      'pretext.lr=4e-1',
    ]);
    expect(c.scan.entropy_weight).toBe(2.5);
    expect(c.scan.update_cluster_head_only).toBe(true);
    expect(c.dataset.mean).toEqual([0.5, 0.5, 0.5]);
    expect(c.tracking.run_name).toBe('123'); // string key keeps the text
    expect(c.tracking.tags).toEqual({ owner: 'me', note: 'x' });
    expect(c.dataset.subset).toBe('');
    expect(c.pretext.lr).toBe(0.4);
  });

  it('derives 0-valued keys: scan.num_clusters from dataset.num_classes, contrastive_hidden from the width', () => {
    expect(compose(['dataset=imagefolder', 'dataset.num_classes=14']).scan.num_clusters).toBe(14);
    expect(compose(['scan.num_clusters=20']).scan.num_clusters).toBe(20); // overclustering
    expect(compose(['profile=cpu']).model.contrastive_hidden).toBe(16 * 8);
    expect(compose(['dataset=imagenet_50', 'profile=ci']).model.contrastive_hidden).toBe(8 * 32);
  });

  it('resolves relative paths: file values against the repo root, command-line values against cwd', () => {
    const root = resolve(defaultConfigDir(), '..');
    const c = compose(['run.out=x/y'], { cwd: '/somewhere' });
    expect(c.run.root).toBe(join(root, 'runs'));
    expect(c.dataset.root).toBe(resolve(root, '../shared/data'));
    expect(c.run.out).toBe('/somewhere/x/y');
    expect(compose([], { env: { SCAN_DATA_DIR: 'd' }, cwd: '/w' }).dataset.root).toBe('/w/d');
  });

  it('resolves every shipped dataset x profile combination', () => {
    const choices = listGroupChoices();
    expect(choices.dataset).toEqual([
      'cifar10',
      'cifar100-20',
      'imagefolder',
      'imagenet',
      'imagenet_100',
      'imagenet_200',
      'imagenet_50',
      'imagenet_sample',
      'stl10',
    ]);
    expect(choices.profile).toEqual(['ci', 'cpu', 'paper']);
    let n = 0;
    for (const dataset of choices.dataset) {
      for (const profile of choices.profile) {
        for (const pretext of choices.pretext) {
          const extra = dataset === 'imagefolder' ? ['dataset.num_classes=5'] : [];
          const c = compose([`dataset=${dataset}`, `profile=${profile}`, `pretext=${pretext}`, ...extra]);
          expect(c.profile.name).toBe(profile);
          expect(c.pretext.method).toBe(pretext);
          expect(c.scan.num_neighbors).toBeLessThanOrEqual(c.mine.k);
          n++;
        }
      }
    }
    expect(n).toBe(choices.dataset.length * 3 * 4);
  });

  it('returns a frozen object', () => {
    const c = compose([]);
    expect(() => {
      (c.scan as { epochs: number }).epochs = 1;
    }).toThrow();
  });
});

describe('errors', () => {
  it('unknown key names it and the closest valid key', () => {
    const e = errorOf(() => compose(['scan.entropy_weigth=5']));
    expect(e.message).toContain('scan.entropy_weigth');
    expect(e.issues[0].suggestion).toBe('scan.entropy_weight');
    expect(errorOf(() => compose(['entropy_weight=5'])).issues[0].suggestion).toBe('scan.entropy_weight');
    expect(errorOf(() => compose(['scn.lr=1'])).issues[0].suggestion).toBe('scan.lr');
  });

  it('unknown group choice names the group, the choice and the available files', () => {
    const e = errorOf(() => compose(['dataset=cifar11']));
    expect(e.message).toContain('dataset = "cifar11"');
    expect(e.message).toContain(
      'cifar10, cifar100-20, imagefolder, imagenet, imagenet_100, imagenet_200, imagenet_50, imagenet_sample, stl10',
    );
    expect(e.issues[0].suggestion).toBe('cifar10');
    expect(errorOf(() => compose(['profile=gpu'])).message).toContain('ci, cpu, paper');
  });

  it('wrong type, range and enum name key, value and expectation', () => {
    const badValues = [
      'scan.batch_size=abc',
      'scan.entropy_weight=-1',
      'scan.optimizer=adamw',
      'dataset.mean=[0.5,0.5]',
      'selflabel.threshold=1.5',
    ];
    const e = errorOf(() => compose([...badValues, 'scan.ema=1']));
    const byKey = Object.fromEntries(e.issues.map((i) => [i.key, i]));
    expect(byKey['scan.ema'].suggestion).toBe('selflabel.ema');
    // unknown keys are reported first; fix that one and the value errors show
    const v = errorOf(() => compose([...badValues, 'scan.epochs=2.5', 'profile.name=gpu']));
    const issues = Object.fromEntries(v.issues.map((i) => [i.key, i]));
    expect(issues['scan.batch_size']).toMatchObject({ value: 'abc', expected: 'an integer >= 1' });
    expect(issues['scan.entropy_weight']).toMatchObject({ value: -1, expected: 'a number >= 0' });
    expect(issues['scan.optimizer']).toMatchObject({ value: 'adamw', expected: 'one of sgd | adam' });
    expect(issues['dataset.mean']).toMatchObject({ value: [0.5, 0.5], expected: 'a list of 3 numbers >= 0 and <= 1' });
    expect(issues['selflabel.threshold']).toMatchObject({ value: 1.5, expected: 'a number >= 0 and <= 1' });
    expect(issues['scan.epochs']).toMatchObject({ value: 2.5, expected: 'an integer >= 0' });
    expect(issues['profile.name'].expected).toBe('one of paper | cpu | ci');
    expect(v.message).toContain(
      'scan.optimizer = "adamw" (from override scan.optimizer=adamw): expected one of sgd | adam',
    );
  });

  it('cross-key rules: neighbours <= mined K, micro-batch <= batch', () => {
    expect(errorOf(() => compose(['scan.num_neighbors=30'])).message).toContain(
      'scan.num_neighbors = 30 (from override scan.num_neighbors=30): expected at most mine.k = 20',
    );
    expect(errorOf(() => compose(['selflabel.micro_batch=600', 'selflabel.batch_size=500'])).issues[0].key).toBe(
      'selflabel.micro_batch',
    );
  });

  it('imagefolder without num_classes says which file left it unset', () => {
    const e = errorOf(() => compose(['dataset=imagefolder']));
    expect(e.message).toContain(
      'dataset.num_classes = 0 (from configs/dataset/imagefolder.yaml): expected an integer >= 1',
    );
  });

  it('malformed overrides and group-without-files', () => {
    expect(errorOf(() => compose(['scan'])).message).toContain("expected an override like 'group=choice'");
    expect(errorOf(() => compose(['scan=fast'])).message).toContain('scan has no choice files');
  });

  it('a YAML file that fails to parse names the file and line', () => {
    const dir = copyOfConfigs();
    writeFileSync(join(dir, 'dataset', 'broken.yaml'), 'dataset:\n  name: broken\n  mean: [0.1, 0.2\n  std: 1\n');
    const e = errorOf(() => compose(['dataset=broken'], { configDir: dir }));
    expect(e.message).toMatch(/configs\/dataset\/broken\.yaml line [34] column \d+: expected valid YAML/);
  });

  it('an unknown key inside a group file names the file and the suggestion', () => {
    const dir = copyOfConfigs();
    writeFileSync(join(dir, 'profile', 'typo.yaml'), 'profile:\n  name: cpu\nscan:\n  epoch: 3\n');
    const e = errorOf(() => compose(['profile=typo'], { configDir: dir }));
    expect(e.issues[0]).toMatchObject({
      key: 'scan.epoch',
      origin: 'configs/profile/typo.yaml',
      suggestion: 'scan.epochs',
    });
  });
});

describe('hashing and printing', () => {
  it('is stable across compositions and key order, and sensitive to values', () => {
    const a = compose(['profile=paper']);
    const b = compose(['scan.lr=0.0001', 'profile=paper']);
    expect(configHash(a)).toBe(configHash(b));
    expect(configHash(a)).toMatch(/^[0-9a-f]{64}$/);
    const reversed = (v: unknown): unknown =>
      Array.isArray(v)
        ? v
        : v && typeof v === 'object'
          ? Object.fromEntries(
              Object.entries(v)
                .reverse()
                .map(([k, x]) => [k, reversed(x)]),
            )
          : v;
    const shuffled = reversed(a) as typeof a;
    expect(Object.keys(shuffled)[0]).toBe('run');
    expect(configHash(shuffled)).toBe(configHash(a));
    expect(configHash(compose(['profile=paper', 'scan.lr=0.0002']))).not.toBe(configHash(a));
    expect(configHash(compose(['profile=paper', 'dataset.mean=[0.4914,0.4822,0.4466]']))).not.toBe(configHash(a));
  });

  it('matches an independently computed sha256 of the canonical JSON', async () => {
    const { createHash } = await import('node:crypto');
    const c = compose(['profile=paper']);
    // Canonical form for the 'mine' group: sorted keys, no spaces.
    const expected = createHash('sha256')
      .update('{"mine":{"batch_size":512,"features":"head","k":20,"k_val":5}}')
      .digest('hex');
    expect(configHash(c, ['mine'])).toBe(expected);
  });

  it('leaves locations out, and stage hashes depend only on upstream groups', () => {
    const a = compose(['profile=paper']);
    expect(configHash(compose(['profile=paper', 'dataset.root=/elsewhere', 'run.out=/x', 'backend.name=cpu']))).toBe(
      configHash(a),
    );
    const scanChanged = compose(['profile=paper', 'scan.entropy_weight=2']);
    expect(stageHash(scanChanged, 'pretext')).toBe(stageHash(a, 'pretext'));
    expect(stageHash(scanChanged, 'mine')).toBe(stageHash(a, 'mine'));
    expect(stageHash(scanChanged, 'scan')).not.toBe(stageHash(a, 'scan'));
    expect(stageHash(scanChanged, 'selflabel')).not.toBe(stageHash(a, 'selflabel'));
    const pretextChanged = compose(['profile=paper', 'pretext.temperature=0.2']);
    expect(stageHash(pretextChanged, 'pretext')).not.toBe(stageHash(a, 'pretext'));
    expect(stageHash(pretextChanged, 'scan')).not.toBe(stageHash(a, 'scan'));
  });

  it('flattens to dotted keys and prints YAML that composes back to the same config', () => {
    const c = compose(['tracking.tags.owner=me']);
    const flat = flattenConfig(c);
    expect(flat['scan.entropy_weight']).toBe(5);
    expect(flat['dataset.mean']).toBe('[0.4914,0.4822,0.4465]');
    expect(flat['tracking.tags.owner']).toBe('me');
    expect(Object.keys(flat).length).toBeGreaterThan(90);
    const yaml = configToYaml(c);
    expect(yaml).toContain('mean: [0.4914, 0.4822, 0.4465]');
    expect(YAML.parse(yaml)).toEqual(JSON.parse(JSON.stringify(c)));
  });

  it('every config file parses and belongs to a group folder', () => {
    for (const [group, files] of Object.entries(listGroupChoices())) {
      expect(files.length, group).toBeGreaterThan(0);
      for (const f of files) expect(readdirSync(join(defaultConfigDir(), group))).toContain(`${f}.yaml`);
    }
  });
});
