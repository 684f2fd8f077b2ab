// Test files in the order that finishes the suite soonest on a small machine: the long end-to-end files first
// (longest first), so that the many short files fill the other worker beside them instead of one long file
// running alone at the end. Vitest's own order needs a results cache, which a clean clone (CI) lacks.
import { BaseSequencer, type TestSpecification } from 'vitest/node';

/** The long files, longest first (seconds each beside another file on a quiet 2-core machine: 530, 480, 135, 100, 60, 55, 50). */
export const LONG_FILES = [
  'test/pipeline-ci.test.ts',
  'test/reproduce-all.test.ts',
  'test/experiments-nx.test.ts',
  'test/mlflow-sync.test.ts',
  'test/relocatable-runs.test.ts',
  'test/generated-dataset.test.ts',
  'test/training-parity.test.ts',
];

export default class LongFilesFirst extends BaseSequencer {
  async sort(files: TestSpecification[]): Promise<TestSpecification[]> {
    const rank = (f: TestSpecification) => {
      const i = LONG_FILES.findIndex((l) => f.moduleId.endsWith(`/${l}`));
      return i < 0 ? LONG_FILES.length : i;
    };
    // stable: the rest keep vitest's order
    return (await super.sort(files))
      .map((f, i) => ({ f, i }))
      .sort((a, b) => rank(a.f) - rank(b.f) || a.i - b.i)
      .map((x) => x.f);
  }
}
