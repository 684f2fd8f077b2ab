// Hydra-like config composition: schema defaults -> configs/config.yaml -> group files (in defaults-list order,
// the profile last) -> environment -> command-line overrides, then convict validation.
import { createHash } from 'node:crypto';
import { readdirSync, readFileSync, statSync } from 'node:fs';
import { isAbsolute, join, relative, resolve } from 'node:path';
import convict from 'convict';
import YAML from 'yaml';
import { closestMatch, ConfigError, type ConfigIssue } from './config-error';
import {
  CONFIG_GROUPS,
  convictSchema,
  PATH_KEYS,
  schemaLeaves,
  type ConfigGroup,
  type ScanConfig,
} from './config-schema';
import { projectRoot } from './project';

export interface ComposeOptions {
  /** Folder with config.yaml and the group folders (default: <repo>/configs). */
  configDir?: string;
  /** Environment to read SCAN_DATA_DIR / MLFLOW_TRACKING_URI from (default: process.env). */
  env?: NodeJS.ProcessEnv;
  /** Relative paths given on the command line or in the environment resolve against this (default: process.cwd()). */
  cwd?: string;
}

/** Which config groups define each stage's identity. Cumulative: a stage's result depends on everything upstream,
 *  so changing scan.* changes the scan, selflabel and eval hashes but not the pretext or mine hashes. */
export const stageConfigGroups = {
  pretext: ['dataset', 'augment', 'backbone', 'model', 'pretext', 'profile'],
  mine: ['dataset', 'augment', 'backbone', 'model', 'pretext', 'profile', 'mine'],
  scan: ['dataset', 'augment', 'backbone', 'model', 'pretext', 'profile', 'mine', 'scan'],
  selflabel: ['dataset', 'augment', 'backbone', 'model', 'pretext', 'profile', 'mine', 'scan', 'selflabel'],
  eval: ['dataset', 'augment', 'backbone', 'model', 'pretext', 'profile', 'mine', 'scan', 'selflabel', 'eval'],
} as const satisfies Record<string, readonly ConfigGroup[]>;
export type StageName = keyof typeof stageConfigGroups;

/** Keys that say where things live or how a run is operated, not what is computed: left out of every hash so that
 *  moving the data folder or switching backend does not invalidate finished runs. */
export const NON_IDENTITY_KEYS = [
  'dataset.root',
  'dataset.cache_dir',
  'pretext.checkpoint_every',
  'scan.checkpoint_every',
  'selflabel.checkpoint_every',
  'tracking',
  'backend',
  'run',
];

const LEAVES = schemaLeaves();
const ENV_KEYS: Record<string, string> = { SCAN_DATA_DIR: 'dataset.root', MLFLOW_TRACKING_URI: 'tracking.uri' };

type Flat = Map<string, { value: unknown; origin: string }>;

export function defaultConfigDir(): string {
  return join(projectRoot(), 'configs');
}

/** Group folders under configDir and the choices (YAML files) each offers. */
export function listGroupChoices(configDir = defaultConfigDir()): Record<string, string[]> {
  const out: Record<string, string[]> = {};
  for (const entry of readdirSync(configDir)) {
    const dir = join(configDir, entry);
    if (!statSync(dir).isDirectory()) continue;
    out[entry] = readdirSync(dir)
      .filter((f) => f.endsWith('.yaml'))
      .map((f) => f.slice(0, -5))
      .sort();
  }
  return out;
}

function readYamlFile(file: string, shown: string): unknown {
  let text: string;
  try {
    text = readFileSync(file, 'utf8');
  } catch (e) {
    throw new ConfigError([{ key: shown, expected: `a readable YAML file (${(e as Error).message})` }]);
  }
  try {
    return YAML.parse(text, { prettyErrors: true }) ?? {};
  } catch (e) {
    const err = e as Error & { linePos?: { line: number; col: number }[] };
    const pos = err.linePos?.[0];
    const where = pos ? `${shown} line ${pos.line} column ${pos.col}` : shown;
    throw new ConfigError([{ key: where, expected: `valid YAML: ${err.message.split('\n')[0]}` }]);
  }
}

function isPlainObject(v: unknown): v is Record<string, unknown> {
  return v !== null && typeof v === 'object' && !Array.isArray(v);
}

/** Parse a `defaults:` list ([{group: choice}, ...]) from a file. */
function parseDefaultsList(list: unknown, shown: string, issues: ConfigIssue[]): [string, string][] {
  if (list === undefined) return [];
  if (!Array.isArray(list)) {
    issues.push({ key: `${shown}: defaults`, value: list, expected: 'a list of {group: choice} entries' });
    return [];
  }
  const out: [string, string][] = [];
  for (const item of list) {
    if (!isPlainObject(item) || Object.keys(item).length !== 1 || typeof Object.values(item)[0] !== 'string') {
      issues.push({ key: `${shown}: defaults`, value: item, expected: 'an entry like {dataset: cifar10}' });
      continue;
    }
    const [group, choice] = Object.entries(item)[0] as [string, string];
    out.push([group, choice]);
  }
  return out;
}

/** Add one layer ({group: {key: value}}) to the flat map, recording where each value came from. */
function applyLayer(flat: Flat, layer: Record<string, unknown>, origin: string, issues: ConfigIssue[]): void {
  for (const [group, values] of Object.entries(layer)) {
    if (!CONFIG_GROUPS.includes(group as ConfigGroup)) {
      issues.push({ key: group, origin, expected: 'a config group', suggestion: closestMatch(group, CONFIG_GROUPS) });
      continue;
    }
    if (!isPlainObject(values)) {
      issues.push({ key: group, value: values, origin, expected: `a map of ${group}.* keys` });
      continue;
    }
    for (const [key, value] of Object.entries(values)) setKey(flat, `${group}.${key}`, value, origin, issues);
  }
}

function setKey(flat: Flat, path: string, value: unknown, origin: string, issues: ConfigIssue[]): void {
  const leaf = LEAVES.get(path);
  if (leaf) {
    if (leaf.kind === 'map' && isPlainObject(value)) {
      const prev = flat.get(path)?.value;
      flat.set(path, { value: { ...(isPlainObject(prev) ? prev : {}), ...value }, origin });
    } else {
      flat.set(path, { value, origin });
    }
    return;
  }
  // A sub-key of a map-valued key (tracking.tags.owner=me).
  const parent = path.slice(0, path.lastIndexOf('.'));
  if (LEAVES.get(parent)?.kind === 'map') {
    const prev = flat.get(parent)?.value;
    flat.set(parent, {
      value: { ...(isPlainObject(prev) ? prev : {}), [path.slice(parent.length + 1)]: value },
      origin,
    });
    return;
  }
  issues.push({ key: path, origin, expected: 'a known config key', suggestion: closestMatch(path, LEAVES.keys()) });
}

/** Parse an override's value as a YAML scalar or flow list; strings stay strings for string-typed keys. */
function parseOverrideValue(path: string, raw: string, issues: ConfigIssue[]): unknown {
  const kind = LEAVES.get(path)?.kind;
  if (raw === '') return kind === 'array' ? [] : '';
  let value: unknown;
  try {
    value = YAML.parse(raw);
  } catch (e) {
    issues.push({
      key: path,
      value: raw,
      origin: `override ${path}=${raw}`,
      expected: `a YAML value (${(e as Error).message.split('\n')[0]})`,
    });
    return undefined;
  }
  if ((kind === 'string' || kind === undefined) && (typeof value === 'number' || typeof value === 'boolean'))
    return raw;
  return value;
}

function resolvePath(value: unknown, base: string): unknown {
  return typeof value === 'string' && value !== '' && !isAbsolute(value) ? resolve(base, value) : value;
}

function unflatten(flat: Flat): Record<string, Record<string, unknown>> {
  const out: Record<string, Record<string, unknown>> = {};
  for (const [path, { value }] of flat) {
    const dot = path.indexOf('.');
    (out[path.slice(0, dot)] ??= {})[path.slice(dot + 1)] = value;
  }
  return out;
}

function deepFreeze<T>(value: T): T {
  if (value && typeof value === 'object') {
    for (const v of Object.values(value)) deepFreeze(v);
    Object.freeze(value);
  }
  return value;
}

/** Compose the resolved config. args: 'group=choice' switches a group, 'a.b=value' sets a key. */
export function composeConfig(args: string[], opts: ComposeOptions = {}): ScanConfig {
  const configDir = resolve(opts.configDir ?? defaultConfigDir());
  const root = resolve(configDir, '..');
  const env = opts.env ?? process.env;
  const cwd = opts.cwd ?? process.cwd();
  const issues: ConfigIssue[] = [];
  const fail = () => {
    if (issues.length) throw new ConfigError(issues);
  };
  const shown = (file: string) => relative(root, file) || file;

  const choicesAvailable = listGroupChoices(configDir);
  const choiceError = (group: string, choice: string, origin: string): ConfigIssue => ({
    key: group,
    value: choice,
    origin,
    expected: `one of the files in ${shown(join(configDir, group))}/: ${choicesAvailable[group].join(', ')}`,
    suggestion: closestMatch(choice, choicesAvailable[group]),
  });

  // 1. Split the command line into group choices and key overrides.
  const cliChoices = new Map<string, string>();
  const overrides: [string, string][] = [];
  for (const arg of args) {
    const eq = arg.indexOf('=');
    if (eq <= 0) {
      issues.push({ key: arg, expected: "an override like 'group=choice' or 'group.key=value'" });
      continue;
    }
    const key = arg.slice(0, eq);
    const raw = arg.slice(eq + 1);
    if (key.includes('.')) {
      overrides.push([key, raw]);
      continue;
    }
    if (choicesAvailable[key]) {
      if (!choicesAvailable[key].includes(raw)) issues.push(choiceError(key, raw, `override ${arg}`));
      else cliChoices.set(key, raw);
    } else if (CONFIG_GROUPS.includes(key as ConfigGroup)) {
      issues.push({
        key,
        value: raw,
        origin: `override ${arg}`,
        expected: `keys like ${key}.<name>=value (${key} has no choice files in ${shown(configDir)}/)`,
      });
    } else {
      issues.push({
        key,
        origin: `override ${arg}`,
        expected: 'a config group or key',
        suggestion: closestMatch(key, [...Object.keys(choicesAvailable), ...LEAVES.keys()]),
      });
    }
  }
  fail();

  // 2. The primary config: its defaults list fixes the order in which group files apply.
  const primaryFile = join(configDir, 'config.yaml');
  const primary = readYamlFile(primaryFile, shown(primaryFile));
  if (!isPlainObject(primary))
    throw new ConfigError([{ key: shown(primaryFile), expected: 'a YAML map with a defaults list' }]);
  const { defaults: primaryDefaults, ...primaryValues } = primary;
  const order: string[] = [];
  const choices = new Map<string, { choice: string; origin: string }>();
  for (const [group, choice] of parseDefaultsList(primaryDefaults, shown(primaryFile), issues)) {
    if (!choicesAvailable[group]) {
      issues.push({
        key: group,
        origin: shown(primaryFile),
        expected: `a group folder under ${shown(configDir)}/`,
        suggestion: closestMatch(group, Object.keys(choicesAvailable)),
      });
      continue;
    }
    order.push(group);
    choices.set(group, { choice, origin: shown(primaryFile) });
  }
  fail();
  // Groups chosen only on the command line apply before the profile, which always applies last.
  for (const group of cliChoices.keys()) if (!order.includes(group)) order.push(group);
  order.sort((a, b) => Number(a === 'profile') - Number(b === 'profile'));
  for (const [group, choice] of cliChoices) choices.set(group, { choice, origin: `override ${group}=${choice}` });

  // 3. Read the chosen files. A file's own `defaults:` may pick other groups' choices (dataset=imagenet_50 picks
  //    backbone=resnet50, pretext=import) unless the command line chose them; repeat until the choices settle.
  const contents = new Map<string, Record<string, unknown>>();
  for (let round = 0; ; round++) {
    let changed = false;
    const impliedBy = new Map<string, string>();
    for (const group of order) {
      const { choice, origin } = choices.get(group)!;
      if (!choicesAvailable[group].includes(choice)) {
        issues.push(choiceError(group, choice, origin));
        continue;
      }
      const file = join(configDir, group, `${choice}.yaml`);
      const content = readYamlFile(file, shown(file));
      if (!isPlainObject(content)) {
        issues.push({ key: shown(file), value: content, expected: 'a YAML map of config groups' });
        continue;
      }
      contents.set(group, content);
      for (const [g, c] of parseDefaultsList(content.defaults, shown(file), issues)) {
        if (!order.includes(g)) {
          issues.push({ key: g, origin: shown(file), expected: `a group listed in ${shown(primaryFile)}` });
          continue;
        }
        if (cliChoices.has(g)) continue;
        if (impliedBy.has(g) && choices.get(g)!.choice !== c) {
          issues.push({
            key: g,
            value: c,
            origin: shown(file),
            expected: `no conflict with ${impliedBy.get(g)} (${choices.get(g)!.choice})`,
          });
          continue;
        }
        impliedBy.set(g, shown(file));
        if (choices.get(g)!.choice !== c) {
          choices.set(g, { choice: c, origin: shown(file) });
          changed = true;
        }
      }
    }
    fail();
    if (!changed) break;
    if (round > 5)
      throw new ConfigError([
        { key: 'defaults', expected: 'group files whose defaults lists do not pick each other in a cycle' },
      ]);
  }

  // 4. Layers: schema defaults -> primary values -> group files (order above) -> paths -> env -> overrides.
  const flat: Flat = new Map();
  const defaultsConf = convict(convictSchema(), { env: {}, args: [] }).getProperties() as unknown as Record<
    string,
    Record<string, unknown>
  >;
  applyLayer(flat, defaultsConf, 'schema default', issues);
  applyLayer(flat, primaryValues, shown(primaryFile), issues);
  for (const group of order) {
    const { defaults: _ignored, ...values } = contents.get(group)!;
    applyLayer(flat, values, `${shown(join(configDir, group, choices.get(group)!.choice))}.yaml`, issues);
  }
  fail();
  for (const key of PATH_KEYS) {
    const entry = flat.get(key)!;
    flat.set(key, { ...entry, value: resolvePath(entry.value, root) });
  }
  for (const [name, key] of Object.entries(ENV_KEYS)) {
    const value = env[name];
    if (value)
      flat.set(key, { value: PATH_KEYS.includes(key) ? resolvePath(value, cwd) : value, origin: `env ${name}` });
  }
  for (const [path, raw] of overrides) {
    const value = parseOverrideValue(path, raw, issues);
    if (value === undefined) continue;
    setKey(flat, path, PATH_KEYS.includes(path) ? resolvePath(value, cwd) : value, `override ${path}=${raw}`, issues);
  }
  fail();

  // 5. Derived values ("0 = same as ...") become concrete so that every stage reads one number.
  const get = (k: string) => flat.get(k)!.value;
  if (get('scan.num_clusters') === 0)
    flat.set('scan.num_clusters', {
      value: get('dataset.num_classes'),
      origin: 'dataset.num_classes (scan.num_clusters was 0)',
    });
  if (get('model.contrastive_hidden') === 0 && typeof get('backbone.width') === 'number') {
    const featureDim = (get('backbone.width') as number) * (get('backbone.name') === 'resnet50' ? 32 : 8);
    flat.set('model.contrastive_hidden', {
      value: featureDim,
      origin: 'backbone feature size (model.contrastive_hidden was 0)',
    });
  }

  // 6. Validate every key with convict, then the rules that tie keys together.
  const conf = convict(convictSchema(), { env: {}, args: [] });
  conf.load(unflatten(flat));
  try {
    conf.validate({ allowed: 'strict' });
  } catch (e) {
    for (const line of (e as Error).message.split('\n')) {
      const m = /^([\w.-]+): (.*?)(?:: value was .*)?$/.exec(line);
      if (!m) {
        issues.push({ key: 'config', expected: line });
        continue;
      }
      const key = m[1];
      issues.push({ key, value: flat.get(key)?.value, origin: flat.get(key)?.origin, expected: m[2] });
    }
  }
  fail();
  const cfg = conf.getProperties() as ScanConfig;
  checkCrossKeyRules(cfg, flat, issues);
  fail();
  return deepFreeze(structuredClone(cfg));
}

function checkCrossKeyRules(cfg: ScanConfig, flat: Flat, issues: ConfigIssue[]): void {
  const rule = (ok: boolean, key: string, expected: string) => {
    if (!ok) issues.push({ key, value: flat.get(key)?.value, origin: flat.get(key)?.origin, expected });
  };
  rule(
    cfg.scan.num_neighbors <= cfg.mine.k,
    'scan.num_neighbors',
    `at most mine.k = ${cfg.mine.k} (only that many neighbours are mined)`,
  );
  rule(cfg.scan.num_clusters >= 1, 'scan.num_clusters', 'an integer >= 1');
  const maxCrop = cfg.dataset.resize > 0 ? cfg.dataset.resize : cfg.dataset.image_size;
  rule(
    cfg.dataset.crop_size <= maxCrop,
    'dataset.crop_size',
    `at most ${cfg.dataset.resize > 0 ? 'dataset.resize' : 'dataset.image_size'} = ${maxCrop}`,
  );
  rule(
    cfg.dataset.class_names.length === 0 || cfg.dataset.class_names.length === cfg.dataset.num_classes,
    'dataset.class_names',
    `an empty list or ${cfg.dataset.num_classes} names (dataset.num_classes)`,
  );
  rule(cfg.pretext.lr_min <= cfg.pretext.lr, 'pretext.lr_min', `at most pretext.lr = ${cfg.pretext.lr}`);
  for (const stage of ['pretext', 'scan', 'selflabel'] as const) {
    rule(
      cfg[stage].micro_batch <= cfg[stage].batch_size,
      `${stage}.micro_batch`,
      `0 or at most ${stage}.batch_size = ${cfg[stage].batch_size}`,
    );
  }
}

// ---- hashing and printing ----

function canonicalJson(value: unknown): string {
  if (Array.isArray(value)) return `[${value.map(canonicalJson).join(',')}]`;
  if (value && typeof value === 'object') {
    const keys = Object.keys(value).sort();
    return `{${keys.map((k) => `${JSON.stringify(k)}:${canonicalJson((value as Record<string, unknown>)[k])}`).join(',')}}`;
  }
  return JSON.stringify(value);
}

/** sha256 (hex) of the canonical JSON of the chosen groups (default: all), leaving out NON_IDENTITY_KEYS. */
export function configHash(cfg: ScanConfig, groups?: readonly string[]): string {
  const chosen = groups ?? CONFIG_GROUPS;
  for (const g of chosen)
    if (!CONFIG_GROUPS.includes(g as ConfigGroup))
      throw new ConfigError([{ key: g, expected: 'a config group', suggestion: closestMatch(g, CONFIG_GROUPS) }]);
  const picked: Record<string, Record<string, unknown>> = {};
  for (const g of [...chosen].sort()) {
    if (NON_IDENTITY_KEYS.includes(g)) continue;
    picked[g] = {};
    for (const [k, v] of Object.entries(cfg[g as ConfigGroup])) {
      if (!NON_IDENTITY_KEYS.includes(`${g}.${k}`)) picked[g][k] = v;
    }
  }
  return createHash('sha256').update(canonicalJson(picked)).digest('hex');
}

/** The hash that identifies a stage's run: the config groups it depends on (stageConfigGroups). */
export function stageHash(cfg: ScanConfig, stage: StageName): string {
  return configHash(cfg, stageConfigGroups[stage]);
}

/** 'scan.entropy_weight' -> 5; lists become JSON text, maps expand ('tracking.tags.owner'). For MLflow params. */
export function flattenConfig(cfg: ScanConfig): Record<string, string | number | boolean> {
  const out: Record<string, string | number | boolean> = {};
  for (const group of CONFIG_GROUPS) {
    for (const [key, value] of Object.entries(cfg[group])) {
      const path = `${group}.${key}`;
      if (Array.isArray(value)) out[path] = JSON.stringify(value);
      else if (isPlainObject(value)) for (const [k, v] of Object.entries(value)) out[`${path}.${k}`] = String(v);
      else out[path] = value as string | number | boolean;
    }
  }
  return out;
}

/** YAML text of the resolved config, groups in schema order, lists in flow style ([0.5, 0.5, 0.5]). */
export function configToYaml(cfg: ScanConfig): string {
  const ordered: Record<string, unknown> = {};
  for (const g of CONFIG_GROUPS) ordered[g] = cfg[g];
  const doc = new YAML.Document(ordered);
  YAML.visit(doc, {
    Seq(_key, node) {
      node.flow = true;
    },
  });
  return doc.toString({ lineWidth: 0, flowCollectionPadding: false });
}

/** Default run folder of a stage: <run.root>/<dataset subset or name>/<stage>-<first 12 hex of the stage hash>. */
export function defaultRunDir(cfg: ScanConfig, stage: StageName): string {
  const dataset = cfg.dataset.subset || cfg.dataset.name;
  return join(cfg.run.root, dataset, `${stage}-${stageHash(cfg, stage).slice(0, 12)}`);
}

export function isConfigGroup(name: string): name is ConfigGroup {
  return CONFIG_GROUPS.includes(name as ConfigGroup);
}
