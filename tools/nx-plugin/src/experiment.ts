// experiments/<name>/experiment.yaml: what one paper table / figure needs, as data.
// Parsing expands the compact form (datasets x rows x sweep values) into flat rows; seeds stay a count per
// profile (seeds 0..n-1 of the clustering steps, all from one pretext model, as in the paper).
import { readFileSync } from 'node:fs';
import YAML from 'yaml';

export const PROFILES = ['paper', 'cpu', 'ci'] as const;
export type Profile = (typeof PROFILES)[number];
export const STAGES = ['pretext', 'mine', 'scan', 'selflabel', 'eval'] as const;
export type Stage = (typeof STAGES)[number];

/** Which stage an override belongs to: the first stage whose config groups include its group. */
const GROUP_STAGE: Record<string, Stage> = {
  dataset: 'pretext',
  augment: 'pretext',
  backbone: 'pretext',
  model: 'pretext',
  pretext: 'pretext',
  mine: 'mine',
  scan: 'scan',
  selflabel: 'selflabel',
  eval: 'eval',
};
/** Groups an experiment may not set: the profile is the Nx configuration; the rest is not experiment identity. */
const FORBIDDEN_GROUPS = ['profile', 'tracking', 'backend', 'run'];

export interface Requirement {
  /** An environment variable that must name an existing file (e.g. imported pretext weights). */
  env: string;
  /** Config key the file path is passed as. */
  key: string;
  what: string;
}

export interface ExperimentRow {
  /** Unique inside the experiment: '<dataset>/<row>[=<sweep value>]' without the dataset part when there is one dataset. */
  id: string;
  row: string;
  label: string;
  dataset: string;
  ablation: { factor: string; value: string };
  /** Overrides by the stage they belong to (cumulative identity: a stage node is keyed by its own and all upstream). */
  overrides: Record<Stage, string[]>;
  /** Last training stage of the pipeline: 'mine' (a neighbour statistic), 'scan' (SCAN loss only) or 'selflabel'. */
  until: 'mine' | 'scan' | 'selflabel';
  /** Table column -> metric key in the manifest of the row's result run (eval, or mine for until: mine). */
  metrics: Record<string, string>;
  /** Set when the row cannot run with the current code (named missing feature). */
  unsupported?: string;
  sweep?: { key: string; value: string };
}

export interface Experiment {
  name: string;
  file: string;
  title: string;
  /** Key of the table / figure in tools/tables/paper-numbers.yaml. */
  feeds: string;
  /** MLflow experiment of the rows' eval runs. */
  mlflowExperiment: string;
  seeds: Record<Profile, number>;
  budget: Partial<Record<Profile, string>>;
  requires: Requirement[];
  rows: ExperimentRow[];
}

export class ExperimentError extends Error {
  constructor(file: string, key: string, value: unknown, expected: string) {
    super(`${file}: ${key}${value === undefined ? '' : ` = ${JSON.stringify(value)}`}: expected ${expected}`);
    this.name = 'ExperimentError';
  }
}

const isMap = (v: unknown): v is Record<string, unknown> => v !== null && typeof v === 'object' && !Array.isArray(v);
const ID = /^[a-z0-9][a-z0-9_-]*$/;
const DEFAULT_METRICS = { acc: 'acc', nmi: 'nmi', ari: 'ari' };

function stringList(file: string, key: string, v: unknown): string[] {
  if (v === undefined || v === null) return [];
  if (!Array.isArray(v) || v.some((x) => typeof x !== 'string' && typeof x !== 'number'))
    throw new ExperimentError(file, key, v, 'a list of strings');
  return v.map(String);
}

/** Sort overrides into stages; reject groups that are not experiment identity. */
export function splitOverrides(file: string, key: string, list: string[]): Record<Stage, string[]> {
  const out = Object.fromEntries(STAGES.map((s) => [s, [] as string[]])) as Record<Stage, string[]>;
  for (const o of list) {
    const eq = o.indexOf('=');
    if (eq <= 0) throw new ExperimentError(file, key, o, "an override 'group=choice' or 'group.key=value'");
    const lhs = o.slice(0, eq);
    const group = lhs.split('.')[0];
    if (FORBIDDEN_GROUPS.includes(group)) {
      throw new ExperimentError(
        file,
        key,
        o,
        `no ${group}.* override (${group === 'profile' ? 'the profile is the Nx configuration: -c paper|cpu|ci' : 'not part of what an experiment computes'})`,
      );
    }
    if (!lhs.includes('.') && group === 'dataset')
      throw new ExperimentError(file, key, o, 'the dataset in the dataset: / datasets: field, not as an override');
    const stage = GROUP_STAGE[group];
    if (!stage) throw new ExperimentError(file, key, o, `a config group of ${Object.keys(GROUP_STAGE).join(', ')}`);
    out[stage].push(o);
  }
  for (const s of STAGES) out[s].sort();
  return out;
}

function seedsOf(file: string, v: unknown): Record<Profile, number> {
  if (!isMap(v))
    throw new ExperimentError(file, 'seeds', v, 'a map {paper: n, cpu: n, ci: n} of seed counts (seeds 0..n-1)');
  const out = {} as Record<Profile, number>;
  for (const p of PROFILES) {
    const n = v[p];
    if (typeof n !== 'number' || !Number.isInteger(n) || n < 1 || n > 100)
      throw new ExperimentError(file, `seeds.${p}`, n, 'an integer 1..100');
    out[p] = n;
  }
  return out;
}

/** Parse and expand one experiment.yaml. `name` is its folder name. */
export function parseExperiment(name: string, file: string, text = readFileSync(file, 'utf8')): Experiment {
  if (!ID.test(name)) throw new ExperimentError(file, 'folder name', name, 'lower-case letters, digits, - and _');
  let doc: unknown;
  try {
    doc = YAML.parse(text);
  } catch (e) {
    throw new ExperimentError(file, 'YAML', undefined, `valid YAML (${(e as Error).message.split('\n')[0]})`);
  }
  if (!isMap(doc)) throw new ExperimentError(file, '(document)', undefined, 'a YAML map');
  const known = [
    'title',
    'feeds',
    'mlflow_experiment',
    'dataset',
    'datasets',
    'overrides',
    'dataset_overrides',
    'seeds',
    'budget',
    'requires',
    'rows',
  ];
  for (const k of Object.keys(doc))
    if (!known.includes(k)) throw new ExperimentError(file, k, undefined, `one of the keys ${known.join(', ')}`);
  const str = (k: string) => {
    const v = doc[k];
    if (typeof v !== 'string' || !v.trim()) throw new ExperimentError(file, k, v, 'a non-empty string');
    return v;
  };
  const title = str('title');
  const feeds = str('feeds');
  const datasets = doc.datasets !== undefined ? stringList(file, 'datasets', doc.datasets) : [str('dataset')];
  if (!datasets.length) throw new ExperimentError(file, 'datasets', doc.datasets, 'at least one dataset');
  const common = stringList(file, 'overrides', doc.overrides);
  const perDataset = (src: unknown, key: string): Record<string, string[]> => {
    if (src === undefined) return {};
    if (!isMap(src)) throw new ExperimentError(file, key, src, 'a map dataset -> list of overrides');
    for (const d of Object.keys(src))
      if (!datasets.includes(d))
        throw new ExperimentError(
          file,
          `${key}.${d}`,
          undefined,
          `one of the experiment's datasets ${datasets.join(', ')}`,
        );
    return Object.fromEntries(Object.entries(src).map(([d, l]) => [d, stringList(file, `${key}.${d}`, l)]));
  };
  const commonByDataset = perDataset(doc.dataset_overrides, 'dataset_overrides');
  const requires: Requirement[] = [];
  for (const [i, r] of (Array.isArray(doc.requires)
    ? doc.requires
    : doc.requires === undefined
      ? []
      : [null]
  ).entries()) {
    if (!isMap(r) || typeof r.env !== 'string' || typeof r.key !== 'string' || typeof r.what !== 'string') {
      throw new ExperimentError(file, `requires[${i}]`, r, '{env: VAR, key: config.key, what: description}');
    }
    requires.push({ env: r.env, key: r.key, what: r.what });
  }
  const budget: Partial<Record<Profile, string>> = {};
  if (doc.budget !== undefined) {
    if (!isMap(doc.budget)) throw new ExperimentError(file, 'budget', doc.budget, 'a map profile -> text');
    for (const [p, t] of Object.entries(doc.budget)) {
      if (!PROFILES.includes(p as Profile) || typeof t !== 'string')
        throw new ExperimentError(file, `budget.${p}`, t, 'a text per profile paper|cpu|ci');
      budget[p as Profile] = t;
    }
  }
  if (!Array.isArray(doc.rows) || !doc.rows.length)
    throw new ExperimentError(file, 'rows', doc.rows, 'a non-empty list of rows');

  const rows: ExperimentRow[] = [];
  doc.rows.forEach((r: unknown, i: number) => {
    const at = `rows[${i}]`;
    if (!isMap(r)) throw new ExperimentError(file, at, r, 'a map');
    const rowKeys = [
      'row',
      'label',
      'ablation',
      'overrides',
      'dataset_overrides',
      'until',
      'metrics',
      'sweep',
      'unsupported',
      'datasets',
    ];
    for (const k of Object.keys(r))
      if (!rowKeys.includes(k))
        throw new ExperimentError(file, `${at}.${k}`, undefined, `one of ${rowKeys.join(', ')}`);
    if (typeof r.row !== 'string' || !ID.test(r.row))
      throw new ExperimentError(file, `${at}.row`, r.row, 'an id of lower-case letters, digits, - and _');
    if (typeof r.label !== 'string') throw new ExperimentError(file, `${at}.label`, r.label, 'a string');
    const ab = r.ablation;
    if (!isMap(ab) || typeof ab.factor !== 'string' || (typeof ab.value !== 'string' && typeof ab.value !== 'number')) {
      throw new ExperimentError(file, `${at}.ablation`, ab, '{factor: name, value: level}');
    }
    const until = r.until ?? 'selflabel';
    if (until !== 'mine' && until !== 'scan' && until !== 'selflabel')
      throw new ExperimentError(file, `${at}.until`, until, 'mine, scan or selflabel');
    let metrics: Record<string, string> = { ...DEFAULT_METRICS };
    if (r.metrics !== undefined) {
      if (!isMap(r.metrics) || Object.values(r.metrics).some((m) => typeof m !== 'string'))
        throw new ExperimentError(file, `${at}.metrics`, r.metrics, 'a map column -> metric key');
      metrics = r.metrics as Record<string, string>;
    }
    const rowDatasets = r.datasets === undefined ? datasets : stringList(file, `${at}.datasets`, r.datasets);
    for (const d of rowDatasets)
      if (!datasets.includes(d)) throw new ExperimentError(file, `${at}.datasets`, d, `one of ${datasets.join(', ')}`);
    const rowByDataset = perDataset(r.dataset_overrides, `${at}.dataset_overrides`);
    let sweep: { key: string; values: string[] } | undefined;
    if (r.sweep !== undefined) {
      const s = r.sweep;
      if (!isMap(s) || typeof s.key !== 'string' || !Array.isArray(s.values) || !s.values.length) {
        throw new ExperimentError(file, `${at}.sweep`, s, '{key: group.key, values: [...]}');
      }
      sweep = { key: s.key, values: s.values.map(String) };
    }
    if (r.unsupported !== undefined && typeof r.unsupported !== 'string')
      throw new ExperimentError(file, `${at}.unsupported`, r.unsupported, 'a text naming the missing feature');
    for (const dataset of rowDatasets) {
      for (const value of sweep ? sweep.values : [undefined]) {
        const list = [
          ...common,
          ...(commonByDataset[dataset] ?? []),
          ...stringList(file, `${at}.overrides`, r.overrides),
          ...(rowByDataset[dataset] ?? []),
        ];
        if (sweep && value !== undefined) list.push(`${sweep.key}=${value}`);
        const overrides = splitOverrides(file, `${at}.overrides`, list);
        const id = [datasets.length > 1 ? dataset : '', value === undefined ? r.row : `${r.row}-${value}`]
          .filter(Boolean)
          .join('--')
          .replace(/[^a-z0-9_-]/gi, '_');
        if (rows.some((x) => x.id === id))
          throw new ExperimentError(file, `${at}.row`, r.row, 'a row id not used before in this file');
        rows.push({
          id,
          row: r.row,
          label: r.label.replace('{value}', value ?? ''),
          dataset,
          ablation: {
            factor: ab.factor,
            value: String(value !== undefined && ab.value === '{value}' ? value : ab.value),
          },
          overrides,
          until,
          metrics,
          unsupported: r.unsupported as string | undefined,
          sweep: sweep && value !== undefined ? { key: sweep.key, value } : undefined,
        });
      }
    }
  });

  const mlflowExperiment = doc.mlflow_experiment === undefined ? `scan-repro/${feeds}` : str('mlflow_experiment');
  return { name, file, title, feeds, mlflowExperiment, seeds: seedsOf(file, doc.seeds), budget, requires, rows };
}
