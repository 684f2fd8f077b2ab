// A vitest reporter that ends the run with the slowest test files (the suite's time budget is kept by looking
// at them) and one plain line, `N passed, N failed[, N skipped]`, which CI logs are read for. It sits beside
// 'default' in the root vitest.config.ts.
import type { Reporter, TestModule } from 'vitest/node';

export default class SummaryLineReporter implements Reporter {
  onTestRunEnd(testModules: ReadonlyArray<TestModule>, unhandledErrors: ReadonlyArray<unknown>): void {
    let passed = 0;
    let failed = 0;
    let skipped = 0;
    for (const mod of testModules) {
      let failedHere = 0;
      for (const test of mod.children.allTests()) {
        const state = test.result().state;
        if (state === 'passed') passed++;
        else if (state === 'failed') failedHere++;
        else skipped++;
      }
      // A file that failed outside any test (import error, a throwing beforeAll) counts as one failure,
      // so the line never says "0 failed" for a red run.
      if (failedHere === 0 && (mod.state() === 'failed' || mod.errors().length > 0)) failedHere = 1;
      failed += failedHere;
    }
    failed += unhandledErrors.length;
    const slowest = [...testModules]
      .map((m) => ({ file: `${m.project.name}: ${m.relativeModuleId}`, seconds: m.diagnostic().duration / 1000 }))
      .sort((a, b) => b.seconds - a.seconds)
      .slice(0, 8);
    if (testModules.length > 8) {
      process.stdout.write('\nslowest test files (seconds of tests and hooks):\n');
      for (const { file, seconds } of slowest) process.stdout.write(`  ${seconds.toFixed(1).padStart(7)}  ${file}\n`);
    }
    process.stdout.write(`\n${passed} passed, ${failed} failed${skipped ? `, ${skipped} skipped` : ''}\n`);
  }
}
