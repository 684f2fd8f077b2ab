// What an experiment needs from outside the repo: the dataset files (looked up through the dataset packages'
// own source descriptions, so the message names exactly the file the reader wants) and extra files named by
// environment variables (e.g. imported MoCo v2 weights). Which package reads a dataset is the registry's answer
// (@scan-repro/data), after loadDatasetPackages(workspaceRoot) has imported the workspace's dataset packages.
import { existsSync } from 'node:fs';
import { join } from 'node:path';
import { composeConfig } from '@scan-repro/core';
import { datasetPackage, datasetSource, findSource, missingDataMessage, resolveDataRoot } from '@scan-repro/data';
import type { Requirement } from './experiment';

export interface DatasetInfo {
  /** The config choice (configs/dataset/<choice>.yaml). */
  choice: string;
  /** dataset.name of the composed config: the registered dataset that reads it. */
  reader: string;
  /** The package that registered the reader (its source is an input of every stage on this dataset). */
  packageName: string;
  /** The pretext method the composed config uses (the dataset file's defaults list, or a pretext= override). */
  pretext: string;
}

/** The dataset of `dataset=<choice>` plus the row's pretext-stage overrides. Needs the packages loaded first. */
export function datasetInfo(workspaceRoot: string, choice: string, overrides: string[] = []): DatasetInfo {
  const where = `dataset '${choice}' (configs/dataset/${choice}.yaml)`;
  try {
    const cfg = composeConfig([`dataset=${choice}`, ...overrides], {
      configDir: join(workspaceRoot, 'configs'),
      env: {},
    });
    return {
      choice,
      reader: cfg.dataset.name,
      packageName: datasetPackage(cfg.dataset.name).name,
      pretext: cfg.pretext.method,
    };
  } catch (e) {
    throw new Error(`${where}: ${(e as Error).message}`);
  }
}

export type Availability = { ok: true } | { ok: false; message: string };

/** Is the dataset there (under dataset.root / SCAN_DATA_DIR / ../shared/data), and every required file? */
export function checkAvailability(
  reader: string,
  requires: Requirement[],
  env: NodeJS.ProcessEnv = process.env,
  dataRootOverride?: string,
): Availability {
  const missing: string[] = [];
  const source = datasetSource(reader);
  const root = resolveDataRoot(dataRootOverride ?? '', env);
  if (source && !findSource(source, root)) missing.push(missingDataMessage(source, root));
  for (const r of requires) {
    const path = env[r.env];
    if (!path) missing.push(`${r.what} missing: set ${r.env} to its file (passed to the stages as ${r.key}).`);
    else if (!existsSync(path))
      missing.push(`${r.what} missing: ${r.env}=${path} does not exist (passed to the stages as ${r.key}).`);
  }
  return missing.length ? { ok: false, message: missing.join(' ') } : { ok: true };
}

/** The relative paths the reader accepts under the data root (for the dataset fingerprint runtime input). */
export function expectedDataPaths(reader: string): string[] {
  return datasetSource(reader)?.expected ?? [];
}
