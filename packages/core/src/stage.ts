// The one shape of every stage (pretext, mine, scan, selflabel, eval): each stage package's src/stage.ts exports
// one function of this type, and the shells (CLI, Nx runner through the CLI, tests) call it the same way.
import type { StageName } from './config';
import type { ScanConfig } from './config-schema';
import type { RunFolder, StageResult } from './run-folder';

/** Upstream run folders by stage name (`--input name=DIR`, or the complete run of the same config). */
export type StageInputs = Partial<Record<StageName, string>>;

export interface StageOptions {
  /** Stop after this many epochs of this call, as a kill would (tests of resume, time-boxed runs); a rerun with
   *  run.resume continues. Stages without an epoch loop ignore it. */
  stopAfterEpochs?: number;
}

/**
 * A stage: reads its inputs' artifacts, writes its own into `run` (per-step metrics through run.logMetric) and
 * returns its final metrics and the artifacts it wrote. The shell has made the run folder, initialised the backend
 * and registered the datasets; it completes the run folder with the result.
 */
export type Stage = (
  config: ScanConfig,
  run: RunFolder,
  inputs: StageInputs,
  opts?: StageOptions,
) => Promise<StageResult>;

/** The named inputs, or an error that names the missing ones and how to pass them. */
export function requireInputs<N extends StageName>(
  stage: StageName,
  inputs: StageInputs,
  names: readonly N[],
): Record<N, string> {
  const missing = names.filter((n) => !inputs[n]);
  if (missing.length) {
    throw new Error(
      `stage ${stage}: missing input run folder(s) ${missing.join(', ')}; expected --input ${names.map((n) => `${n}=DIR`).join(' ')}`,
    );
  }
  return Object.fromEntries(names.map((n) => [n, inputs[n]!])) as Record<N, string>;
}
