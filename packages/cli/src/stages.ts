// The stage table: which package and export runs each stage, and which upstream run folders it reads.
// Stage packages are imported lazily (dynamic import) so that `scan-repro config` stays fast and a stage whose
// package is not finished yet only fails when it is asked for.
import type { Stage, StageName } from '@scan-repro/core';
import { CliError } from './errors';

export interface StageSpec {
  name: StageName;
  description: string;
  /** Module specifier of the package (or file) that exports the stage function (a package's src/stage.ts). */
  module: string;
  exportName: string;
  /** Upstream stages whose run folders must be passed (as --input name=DIR or found by config hash). */
  inputs: StageName[];
  /** Upstream stages used when present. */
  optionalInputs?: StageName[];
}

export const STAGES: StageSpec[] = [
  {
    name: 'pretext',
    module: '@scan-repro/pretext',
    exportName: 'runPretext',
    inputs: [],
    description: 'learn (SimCLR / MoCo / RotNet) or import pretext features; writes model.safetensors',
  },
  {
    name: 'mine',
    module: '@scan-repro/mine',
    exportName: 'runMine',
    inputs: ['pretext'],
    description: 'mine the K nearest neighbours of every image in pretext feature space; writes neighbors.safetensors',
  },
  {
    name: 'scan',
    module: '@scan-repro/scan',
    exportName: 'runScan',
    inputs: ['pretext', 'mine'],
    description: 'train cluster heads with the SCAN loss; keeps the head with the lowest validation loss',
  },
  {
    name: 'selflabel',
    module: '@scan-repro/selflabel',
    exportName: 'runSelflabel',
    inputs: ['scan'],
    description: 'fine-tune on confident pseudo-labels with strong augmentations',
  },
  {
    name: 'eval',
    module: '@scan-repro/eval',
    exportName: 'runEval',
    inputs: ['pretext', 'mine', 'scan'],
    optionalInputs: ['selflabel'],
    description: 'accuracy (Hungarian / majority), NMI, ARI, K-means baseline, confusion matrix, prototypes',
  },
];

/** Import the stage function; a package that cannot load or does not export it yet gives a clear CliError. */
export async function loadStage(spec: Pick<StageSpec, 'name' | 'module' | 'exportName'>): Promise<Stage> {
  let mod: Record<string, unknown>;
  try {
    mod = (await import(spec.module)) as Record<string, unknown>;
  } catch (e) {
    const first = String((e as Error)?.message ?? e).split('\n')[0];
    throw new CliError(`stage ${spec.name} is not available: ${spec.module} could not be loaded (${first})`);
  }
  const fn = mod[spec.exportName];
  if (typeof fn !== 'function') {
    throw new CliError(
      `stage ${spec.name} is not available: ${spec.module} does not export a function ${spec.exportName} (yet)`,
    );
  }
  return fn as Stage;
}
