// Convict schemas, one per config group, and the TypeScript types they validate.
// Defaults here are the paper's CIFAR-10 values; configs/dataset/<name>.yaml sets only what differs for that dataset.
// Formats are functions (not convict's built-in names) so that every error says exactly what was expected.
import type { Schema } from 'convict';

export type BackboneName = 'resnet18_cifar' | 'resnet18_stl' | 'resnet50';
/** pretext.method choices; @scan-repro/pretext registers one method under each name (its PRETEXT_METHODS). */
export const PRETEXT_METHOD_NAMES = ['simclr', 'moco', 'rotnet', 'import'] as const;
export type PretextMethod = (typeof PRETEXT_METHOD_NAMES)[number];
export type OptimizerName = 'sgd' | 'adam';
export type ProfileName = 'paper' | 'cpu' | 'ci';
export type BackendName = 'auto' | 'tensorflow-gpu' | 'tensorflow' | 'wasm' | 'cpu';

export interface DatasetConfig {
  name: string;
  root: string;
  num_classes: number;
  class_names: string[];
  image_size: number;
  crop_size: number;
  resize: number;
  mean: [number, number, number];
  std: [number, number, number];
  pretext_splits: string[];
  train_split: string;
  val_split: string;
  subset: string;
  max_train: number;
  max_val: number;
  subset_seed: number;
  cache_dir: string;
}
export interface AugmentConfig {
  num_strong_ops: number;
  cutout: number;
  crop_scale: [number, number];
  jitter: [number, number, number, number];
  jitter_p: number;
  grayscale_p: number;
}
export interface BackboneConfig {
  name: BackboneName;
  width: number;
  blocks: [number, number, number, number];
}
export interface ModelConfig {
  contrastive_hidden: number;
  contrastive_dim: number;
}
export interface PretextConfig {
  method: PretextMethod;
  weights: string;
  epochs: number;
  batch_size: number;
  micro_batch: number;
  optimizer: OptimizerName;
  lr: number;
  lr_min: number;
  warmup_epochs: number;
  momentum: number;
  nesterov: boolean;
  weight_decay: number;
  temperature: number;
  knn_k: number;
  knn_temperature: number;
  moco_queue: number;
  moco_momentum: number;
  moco_temperature: number;
  checkpoint_every: number;
}
export interface MineConfig {
  k: number;
  k_val: number;
  features: 'head' | 'backbone';
  batch_size: number;
}
export interface ScanStageConfig {
  num_clusters: number;
  num_heads: number;
  entropy_weight: number;
  num_neighbors: number;
  epochs: number;
  batch_size: number;
  micro_batch: number;
  optimizer: OptimizerName;
  lr: number;
  weight_decay: number;
  momentum: number;
  nesterov: boolean;
  update_cluster_head_only: boolean;
  oracle_neighbors: boolean;
  augmentation: 'ours' | 'simclr';
  checkpoint_every: number;
}
export interface SelflabelConfig {
  threshold: number;
  class_balance: boolean;
  ema: boolean;
  ema_alpha: number;
  epochs: number;
  batch_size: number;
  micro_batch: number;
  optimizer: OptimizerName;
  lr: number;
  weight_decay: number;
  momentum: number;
  augmentation: 'ours' | 'simclr';
  checkpoint_every: number;
}
export interface EvalConfig {
  mapping: 'hungarian' | 'majority';
  prototypes: number;
  kmeans: boolean;
  kmeans_features: 'head' | 'backbone';
  top5: boolean;
}
export interface ProfileConfig {
  name: ProfileName;
  seed: number;
}
export interface TrackingConfig {
  uri: string;
  experiment: string;
  run_name: string;
  tags: Record<string, string>;
  results_dir: string;
}
export interface BackendConfig {
  name: BackendName;
  threads: number;
}
export interface RunConfig {
  root: string;
  out: string;
  resume: boolean;
}

export interface ScanConfig {
  dataset: DatasetConfig;
  augment: AugmentConfig;
  backbone: BackboneConfig;
  model: ModelConfig;
  pretext: PretextConfig;
  mine: MineConfig;
  scan: ScanStageConfig;
  selflabel: SelflabelConfig;
  eval: EvalConfig;
  profile: ProfileConfig;
  tracking: TrackingConfig;
  backend: BackendConfig;
  run: RunConfig;
}
export type ConfigGroup = keyof ScanConfig;

// ---- format helpers: each throws an Error whose message is the expectation ("an integer >= 1") ----

type Leaf = { doc: string; format: (value: unknown) => void; default: unknown; kind: string };

function describeRange(min?: number, max?: number, minExclusive = false): string {
  const lo = min === undefined ? '' : `${minExclusive ? '>' : '>='} ${min}`;
  const hi = max === undefined ? '' : `<= ${max}`;
  return [lo, hi].filter(Boolean).join(' and ');
}
function checkNumber(
  v: unknown,
  o: { int?: boolean; min?: number; max?: number; minExclusive?: boolean },
  what: string,
): void {
  const range = describeRange(o.min, o.max, o.minExclusive);
  const expected = `${what}${range ? ' ' + range : ''}`;
  if (typeof v !== 'number' || !Number.isFinite(v)) throw new Error(expected);
  if (o.int && !Number.isInteger(v)) throw new Error(expected);
  if (o.min !== undefined && (o.minExclusive ? v <= o.min : v < o.min)) throw new Error(expected);
  if (o.max !== undefined && v > o.max) throw new Error(expected);
}
const int = (doc: string, def: number, o: { min?: number; max?: number } = {}): Leaf => ({
  doc,
  default: def,
  kind: 'int',
  format: (v) => checkNumber(v, { ...o, int: true }, 'an integer'),
});
const num = (doc: string, def: number, o: { min?: number; max?: number; minExclusive?: boolean } = {}): Leaf => ({
  doc,
  default: def,
  kind: 'number',
  format: (v) => checkNumber(v, o, 'a number'),
});
const bool = (doc: string, def: boolean): Leaf => ({
  doc,
  default: def,
  kind: 'boolean',
  format: (v) => {
    if (typeof v !== 'boolean') throw new Error('true or false');
  },
});
const str = (doc: string, def: string, o: { nonEmpty?: boolean } = {}): Leaf => ({
  doc,
  default: def,
  kind: 'string',
  format: (v) => {
    if (typeof v !== 'string' || (o.nonEmpty && v.length === 0))
      throw new Error(o.nonEmpty ? 'a non-empty string' : 'a string');
  },
});
const oneOf = <T extends string>(doc: string, def: T, values: readonly T[]): Leaf => ({
  doc,
  default: def,
  kind: 'enum',
  format: (v) => {
    if (!values.includes(v as T)) throw new Error(`one of ${values.join(' | ')}`);
  },
});
const numArray = (
  doc: string,
  def: number[],
  o: { length?: number; minLength?: number; int?: boolean; min?: number; max?: number },
): Leaf => ({
  doc,
  default: def,
  kind: 'array',
  format: (v) => {
    const each = `${o.int ? 'integers' : 'numbers'}${describeRange(o.min, o.max) ? ' ' + describeRange(o.min, o.max) : ''}`;
    const expected =
      o.length !== undefined ? `a list of ${o.length} ${each}` : `a list of at least ${o.minLength ?? 0} ${each}`;
    if (!Array.isArray(v)) throw new Error(expected);
    if (o.length !== undefined && v.length !== o.length) throw new Error(expected);
    if (o.minLength !== undefined && v.length < o.minLength) throw new Error(expected);
    for (const x of v) checkNumber(x, { int: o.int, min: o.min, max: o.max }, expected);
  },
});
const strArray = (doc: string, def: string[], o: { minLength?: number } = {}): Leaf => ({
  doc,
  default: def,
  kind: 'array',
  format: (v) => {
    const expected = `a list of ${o.minLength ? `at least ${o.minLength} ` : ''}strings`;
    if (!Array.isArray(v) || v.some((x) => typeof x !== 'string') || v.length < (o.minLength ?? 0))
      throw new Error(expected);
  },
});
const stringMap = (doc: string): Leaf => ({
  doc,
  default: {},
  kind: 'map',
  format: (v) => {
    const expected = 'a map of string keys to string values';
    if (v === null || typeof v !== 'object' || Array.isArray(v)) throw new Error(expected);
    if (Object.values(v).some((x) => typeof x !== 'string')) throw new Error(expected);
  },
});

const OPTIMIZERS = ['sgd', 'adam'] as const;
const checkpointEvery = () => int('save a resumable checkpoint every N epochs (0 = never)', 1, { min: 0 });
const microBatch = () =>
  int('split each batch into chunks of this size and accumulate gradients (0 = whole batch at once)', 0, { min: 0 });

export const datasetSchema = {
  name: str('dataset reader name (cifar10 | cifar100-20 | stl10 | imagenet | imagefolder)', 'cifar10', {
    nonEmpty: true,
  }),
  root: str(
    'folder that holds the raw dataset files (env SCAN_DATA_DIR); relative paths in config files resolve against the repo root, on the command line against the working directory',
    '../shared/data',
  ),
  num_classes: int('number of ground-truth classes (required for imagefolder)', 10, { min: 1 }),
  class_names: strArray('class names in label order; empty = take them from the dataset files', []),
  image_size: int('side of the network input in pixels', 32, { min: 1 }),
  crop_size: int('side of the (center / random) crop in pixels', 32, { min: 1 }),
  resize: int('resize the shorter side to this before cropping (0 = no resize; 256 for ImageNet)', 0, { min: 0 }),
  mean: numArray('per-channel RGB mean for normalisation', [0.4914, 0.4822, 0.4465], { length: 3, min: 0, max: 1 }),
  std: numArray('per-channel RGB std for normalisation', [0.2023, 0.1994, 0.201], { length: 3, min: 0.0001, max: 1 }),
  pretext_splits: strArray('splits the pretext stage trains on', ['train'], { minLength: 1 }),
  train_split: str('split that clustering and self-labeling train on', 'train', { nonEmpty: true }),
  val_split: str('held-out split for validation, model selection and reported metrics', 'test', { nonEmpty: true }),
  subset: str('ImageNet class-subset list name (imagenet_50 | imagenet_100 | imagenet_200; empty = all classes)', ''),
  max_train: int('use a seeded, class-stratified subset of at most this many training images (0 = all)', 0, { min: 0 }),
  max_val: int('use a seeded, class-stratified subset of at most this many validation images (0 = all)', 0, { min: 0 }),
  // Separate from profile.seed: the seeds of the clustering steps must all see the same images as the one
  // pretext model and neighbour table they start from.
  subset_seed: int('seed of the max_train / max_val subsets (independent of profile.seed)', 0, { min: 0 }),
  cache_dir: str('git-ignored folder for decoded dataset caches', '.cache/datasets', { nonEmpty: true }),
};
export const augmentSchema = {
  num_strong_ops: int('number of random ops per image in the "ours" strong augmentation (drawn with replacement)', 4, {
    min: 0,
    max: 14,
  }),
  cutout: int('maximum cutout side length in pixels (16 CIFAR, 32 STL-10, 75 ImageNet; 0 = off)', 16, { min: 0 }),
  crop_scale: numArray('SimCLR RandomResizedCrop area scale range', [0.2, 1], { length: 2, min: 0, max: 1 }),
  jitter: numArray('SimCLR color jitter strengths: brightness, contrast, saturation, hue', [0.4, 0.4, 0.4, 0.1], {
    length: 4,
    min: 0,
    max: 1,
  }),
  jitter_p: num('probability of applying the color jitter', 0.8, { min: 0, max: 1 }),
  grayscale_p: num('probability of random grayscale', 0.2, { min: 0, max: 1 }),
};
export const backboneSchema = {
  name: oneOf<BackboneName>('backbone architecture', 'resnet18_cifar', ['resnet18_cifar', 'resnet18_stl', 'resnet50']),
  width: int('base channel count of the ResNet (64 = paper)', 64, { min: 1 }),
  blocks: numArray('residual blocks per stage', [2, 2, 2, 2], { length: 4, int: true, min: 1 }),
};
export const modelSchema = {
  contrastive_hidden: int(
    'hidden size of the contrastive MLP head (0 = the backbone feature size: 8*width for ResNet-18, 32*width for ResNet-50)',
    0,
    { min: 0 },
  ),
  contrastive_dim: int('output size of the contrastive MLP head', 128, { min: 1 }),
};
export const pretextSchema = {
  method: oneOf<PretextMethod>(
    'pretext task (import = load external weights, e.g. MoCo v2 for ImageNet)',
    'simclr',
    PRETEXT_METHOD_NAMES,
  ),
  weights: str('weights file for method=import (safetensors, PyTorch state-dict names)', ''),
  epochs: int('pretext training epochs', 500, { min: 0 }),
  batch_size: int('images per batch (SimCLR: 2 views each)', 512, { min: 1 }),
  micro_batch: microBatch(),
  optimizer: oneOf<OptimizerName>('optimizer', 'sgd', OPTIMIZERS),
  lr: num('initial learning rate', 0.4, { min: 0 }),
  lr_min: num('cosine schedule end learning rate (= lr for a constant schedule)', 0.0004, { min: 0 }),
  warmup_epochs: num(
    'linear learning-rate warmup over this many epochs, per step, on top of the cosine (SimCLR paper: 10; the official SCAN code: 0)',
    0,
    { min: 0 },
  ),
  momentum: num('SGD momentum', 0.9, { min: 0, max: 1 }),
  nesterov: bool('Nesterov momentum', false),
  weight_decay: num('weight decay', 0.0001, { min: 0 }),
  temperature: num('NT-Xent temperature', 0.1, { min: 0, minExclusive: true }),
  knn_k: int('neighbours of the weighted-kNN monitor', 100, { min: 1 }),
  knn_temperature: num('temperature of the weighted-kNN monitor votes', 0.1, { min: 0, minExclusive: true }),
  moco_queue: int('MoCo negative queue length', 65536, { min: 1 }),
  moco_momentum: num('MoCo key-encoder EMA momentum', 0.999, { min: 0, max: 1 }),
  moco_temperature: num('MoCo InfoNCE temperature', 0.2, { min: 0, minExclusive: true }),
  checkpoint_every: checkpointEvery(),
};
export const mineSchema = {
  k: int('nearest neighbours mined per training image (20 CIFAR/STL, 50 ImageNet)', 20, { min: 1 }),
  k_val: int('nearest neighbours mined per validation image', 5, { min: 1 }),
  features: oneOf(
    'features to mine on: head = L2-normalised contrastive-head output, backbone = pooled backbone features',
    'head',
    ['head', 'backbone'] as const,
  ),
  batch_size: int('images per forward pass while embedding', 512, { min: 1 }),
};
export const scanSchema = {
  num_clusters: int('clusters per head (0 = dataset.num_classes; 2x for overclustering)', 0, { min: 0 }),
  num_heads: int('independent cluster heads; the lowest validation SCAN loss head is kept', 1, { min: 1 }),
  entropy_weight: num('weight lambda of the entropy term', 5, { min: 0 }),
  num_neighbors: int('neighbours sampled from per anchor (<= mine.k; 0 = augmentations only)', 20, { min: 0 }),
  epochs: int('SCAN training epochs', 50, { min: 0 }),
  batch_size: int('anchors per batch', 128, { min: 1 }),
  micro_batch: microBatch(),
  optimizer: oneOf<OptimizerName>('optimizer', 'adam', OPTIMIZERS),
  lr: num('learning rate (constant schedule)', 0.0001, { min: 0 }),
  weight_decay: num('weight decay', 0.0001, { min: 0 }),
  momentum: num('SGD momentum (ignored by adam)', 0.9, { min: 0, max: 1 }),
  nesterov: bool('Nesterov momentum (sgd only)', false),
  update_cluster_head_only: bool('freeze the backbone (eval mode, no gradients) and train only the heads', false),
  oracle_neighbors: bool(
    'upper-bound experiment only: use the labels to drop mined neighbours of another class',
    false,
  ),
  augmentation: oneOf('augmentation of anchors and neighbours', 'ours', ['ours', 'simclr'] as const),
  checkpoint_every: checkpointEvery(),
};
export const selflabelSchema = {
  threshold: num('softmax confidence above which a prediction becomes a pseudo-label', 0.99, { min: 0, max: 1 }),
  class_balance: bool('weight the cross-entropy by inverse pseudo-label frequency in the batch', true),
  ema: bool('keep an exponential moving average of the weights', false),
  ema_alpha: num('EMA decay', 0.999, { min: 0, max: 1 }),
  epochs: int('self-labeling epochs', 200, { min: 0 }),
  batch_size: int('images per batch', 1000, { min: 1 }),
  micro_batch: microBatch(),
  optimizer: oneOf<OptimizerName>('optimizer', 'adam', OPTIMIZERS),
  lr: num('learning rate (constant schedule)', 0.0001, { min: 0 }),
  weight_decay: num('weight decay', 0.0001, { min: 0 }),
  momentum: num('SGD momentum (ignored by adam)', 0.9, { min: 0, max: 1 }),
  augmentation: oneOf('augmentation of the strongly augmented view', 'ours', ['ours', 'simclr'] as const),
  checkpoint_every: checkpointEvery(),
};
export const evalSchema = {
  mapping: oneOf(
    'cluster-to-class mapping: hungarian (one-to-one) or majority (many-to-one, for overclustering)',
    'hungarian',
    ['hungarian', 'majority'] as const,
  ),
  prototypes: int('most confident samples per cluster used to pick the prototype image', 10, { min: 1 }),
  kmeans: bool('also report the pretext + K-means baseline', true),
  kmeans_features: oneOf('features for the K-means baseline', 'head', ['head', 'backbone'] as const),
  top5: bool('report top-5 accuracy through the Hungarian mapping (ImageNet)', false),
};
export const profileSchema = {
  name: oneOf<ProfileName>('compute profile: paper sizes, scaled for a 2-core CPU, or tiny for CI', 'paper', [
    'paper',
    'cpu',
    'ci',
  ]),
  seed: int('seed of every random stream (createRng)', 0, { min: 0, max: 0xffffffff }),
};
export const trackingSchema = {
  uri: str('MLflow tracking URI (env MLFLOW_TRACKING_URI; empty = no tracking)', ''),
  experiment: str('MLflow experiment name', 'scan-repro', { nonEmpty: true }),
  run_name: str('MLflow run name (empty = derived from stage and dataset)', ''),
  tags: stringMap('extra MLflow tags'),
  // One-off runs record here (git-ignored); the experiment runner points cpu/paper runs at results/.
  results_dir: str('folder of the local run records (runs.csv, runs.jsonl, the MLflow queue)', 'runs/records', {
    nonEmpty: true,
  }),
};
export const backendSchema = {
  name: oneOf<BackendName>('TensorFlow.js backend (auto = best available; env SCAN_BACKEND)', 'auto', [
    'auto',
    'tensorflow-gpu',
    'tensorflow',
    'wasm',
    'cpu',
  ]),
  threads: int(
    'CPU threads for the wasm backend (0 = env SCAN_WASM_THREADS, else all cores); tensorflow sizes its own pool',
    0,
    { min: 0 },
  ),
};
export const runSchema = {
  root: str('folder that holds run folders', 'runs', { nonEmpty: true }),
  out: str('run folder of this stage (empty = <run.root>/<dataset>/<stage>-<stage config hash>)', ''),
  resume: bool('continue from checkpoint.safetensors when its config hash matches', true),
};

export const groupSchemas = {
  dataset: datasetSchema,
  augment: augmentSchema,
  backbone: backboneSchema,
  model: modelSchema,
  pretext: pretextSchema,
  mine: mineSchema,
  scan: scanSchema,
  selflabel: selflabelSchema,
  eval: evalSchema,
  profile: profileSchema,
  tracking: trackingSchema,
  backend: backendSchema,
  run: runSchema,
} satisfies Record<ConfigGroup, Record<string, Leaf>>;

export const CONFIG_GROUPS = Object.keys(groupSchemas) as ConfigGroup[];

/** Keys that hold file-system paths: relative values are resolved to absolute paths during composition. */
export const PATH_KEYS = [
  'dataset.root',
  'dataset.cache_dir',
  'pretext.weights',
  'run.root',
  'run.out',
  'tracking.results_dir',
];

/** The whole schema in convict's shape ({ group: { key: { doc, format, default } } }). */
export function convictSchema(): Schema<ScanConfig> {
  const out: Record<string, Record<string, { doc: string; format: (v: unknown) => void; default: unknown }>> = {};
  for (const [group, keys] of Object.entries(groupSchemas)) {
    out[group] = {};
    for (const [key, leaf] of Object.entries(keys))
      out[group][key] = { doc: leaf.doc, format: leaf.format, default: leaf.default };
  }
  return out as unknown as Schema<ScanConfig>;
}

/** Every leaf key as 'group.key', with its doc and kind ('map' keys accept any sub-key). */
export function schemaLeaves(): Map<string, { doc: string; kind: string }> {
  const leaves = new Map<string, { doc: string; kind: string }>();
  for (const [group, keys] of Object.entries(groupSchemas)) {
    for (const [key, leaf] of Object.entries(keys)) leaves.set(`${group}.${key}`, { doc: leaf.doc, kind: leaf.kind });
  }
  return leaves;
}
