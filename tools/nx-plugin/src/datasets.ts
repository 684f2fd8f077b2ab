// What an experiment needs from outside the repo: the dataset files (looked up through the dataset packages'
// own source descriptions, so the message names exactly the file the reader wants) and extra files named by
// environment variables (e.g. imported MoCo v2 weights).
import { existsSync, readFileSync } from 'node:fs';
import { join } from 'node:path';
import YAML from 'yaml';
import { datasetSource, findSource, missingDataMessage, resolveDataRoot } from '@scan-repro/data';
import '@scan-repro/dataset-cifar10';
import '@scan-repro/dataset-cifar100';
import '@scan-repro/dataset-stl10';
import '@scan-repro/dataset-imagenet';
import '@scan-repro/dataset-imagefolder';
import type { Requirement } from './experiment';

export interface DatasetInfo {
  /** The config choice (configs/dataset/<choice>.yaml). */
  choice: string;
  /** dataset.name in that file: the reader. */
  reader: string;
  /** The package that reads it (its source is an input of every stage on this dataset). */
  packageDir: string;
  /** The pretext choice the dataset file's defaults list picks. */
  pretext: string;
}

const READER_PACKAGE: Record<string, string> = {
  cifar10: 'dataset-cifar10', 'cifar100-20': 'dataset-cifar100', cifar100: 'dataset-cifar100', stl10: 'dataset-stl10',
  imagenet: 'dataset-imagenet', imagenet_50: 'dataset-imagenet', imagenet_100: 'dataset-imagenet', imagenet_200: 'dataset-imagenet',
  imagenet_sample: 'dataset-imagenet', imagefolder: 'dataset-imagefolder',
};

export function datasetInfo(workspaceRoot: string, choice: string, overrides: string[] = []): DatasetInfo {
  const file = join(workspaceRoot, 'configs', 'dataset', `${choice}.yaml`);
  if (!existsSync(file)) throw new Error(`dataset '${choice}': no config file ${file} (expected one of configs/dataset/*.yaml)`);
  const doc = YAML.parse(readFileSync(file, 'utf8')) as { dataset?: { name?: string }; defaults?: Record<string, string>[] };
  const nameOverride = overrides.find((o) => o.startsWith('dataset.name='));
  const reader = nameOverride ? nameOverride.slice('dataset.name='.length) : String(doc.dataset?.name ?? choice);
  const pretextChoice = overrides.find((o) => o.startsWith('pretext='))?.slice('pretext='.length)
    ?? (doc.defaults ?? []).map((d) => d.pretext).find(Boolean) ?? 'simclr';
  const pkg = READER_PACKAGE[reader];
  if (!pkg) throw new Error(`dataset '${choice}' (${file}): reader '${reader}' has no known package (expected one of ${Object.keys(READER_PACKAGE).join(', ')})`);
  return { choice, reader, packageDir: `packages/${pkg}`, pretext: pretextChoice };
}

export type Availability = { ok: true } | { ok: false; message: string };

/** Is the dataset there (under dataset.root / SCAN_DATA_DIR / ../shared/data), and every required file? */
export function checkAvailability(reader: string, requires: Requirement[], env: NodeJS.ProcessEnv = process.env, dataRootOverride?: string): Availability {
  const missing: string[] = [];
  const source = datasetSource(reader);
  const root = resolveDataRoot(dataRootOverride ?? '', env);
  if (source && !findSource(source, root)) missing.push(missingDataMessage(source, root));
  for (const r of requires) {
    const path = env[r.env];
    if (!path) missing.push(`${r.what} missing: set ${r.env} to its file (passed to the stages as ${r.key}).`);
    else if (!existsSync(path)) missing.push(`${r.what} missing: ${r.env}=${path} does not exist (passed to the stages as ${r.key}).`);
  }
  return missing.length ? { ok: false, message: missing.join(' ') } : { ok: true };
}

/** The relative paths the reader accepts under the data root (for the dataset fingerprint runtime input). */
export function expectedDataPaths(reader: string): string[] {
  return datasetSource(reader)?.expected ?? [];
}
