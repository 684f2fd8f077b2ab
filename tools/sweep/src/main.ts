// Runs the sweep entries that have no complete record yet (pretext, then mine, through the CLI), archives each
// entry's records (config.yaml, manifest.json, metrics.jsonl; never weights) under results/sweep/<plan>/, and
// regenerates results/sweep/<plan>.csv, the figure results/sweep/<plan>.png (+ .vl.json) and the table in
// docs/<plan>.md.
//   npx tsx tools/sweep/src/main.ts [--plan tools/sweep/cpu-profile.yaml] [--only name,...] [--report-only]
//       [--results results/sweep] [--runs runs/sweep] [--doc docs/<plan>.md]
import { spawnSync } from 'node:child_process';
import { cpSync, mkdirSync, readFileSync } from 'node:fs';
import { basename, join, relative, resolve } from 'node:path';
import { fileURLToPath } from 'node:url';
import { parseArgs } from 'node:util';
import { atomicWriteFile } from '@scan-repro/core';
import { figureFiles, renderFigure } from '@scan-repro/plots';
import {
  accuracyVsTimeSpec,
  collectRow,
  entryDir,
  readPlan,
  renderCsv,
  renderTable,
  spliceTable,
  type SweepRow,
} from './sweep';

const root = process.cwd();
const repo = resolve(fileURLToPath(new URL('../../..', import.meta.url)));

function runStage(args: string[]): void {
  process.stderr.write(`$ scan-repro ${args.join(' ')}\n`);
  const tsx = join(repo, 'node_modules', '.bin', 'tsx');
  const r = spawnSync(tsx, [join(repo, 'packages/cli/src/main.ts'), ...args], { stdio: 'inherit', cwd: root });
  if (r.error) throw new Error(`could not start ${tsx}: ${r.error.message}`);
  if (r.status !== 0) throw new Error(`scan-repro ${args[0]} exited with ${r.status ?? r.signal}`);
}

async function main(): Promise<void> {
  const { values } = parseArgs({
    options: {
      plan: { type: 'string', default: 'tools/sweep/cpu-profile.yaml' },
      only: { type: 'string' },
      'report-only': { type: 'boolean', default: false },
      results: { type: 'string', default: 'results/sweep' },
      runs: { type: 'string', default: 'runs/sweep' },
      doc: { type: 'string' },
    },
  });
  const planFile = resolve(root, values.plan!);
  const plan = readPlan(planFile);
  const planName = basename(planFile, '.yaml');
  const runsRoot = join(resolve(root, values.runs!), planName);
  const resultsDir = resolve(root, values.results!);
  const archive = join(resultsDir, planName);
  const only = values.only?.split(',');
  const unknown = only?.find((n) => !plan.runs.some((r) => r.name === n));
  if (unknown) throw new Error(`--only ${unknown}: no such entry in ${values.plan}`);

  /** The table in the doc, the CSV and the figure, from the archived records. */
  const doc = resolve(root, values.doc ?? join('docs', `${planName}.md`));
  async function writeReport(): Promise<{ table: string; recorded: number }> {
    const rows = new Map<string, SweepRow>();
    for (const e of plan.runs) {
      const r = collectRow(archive, e);
      if (r) rows.set(e.name, r);
    }
    const table = renderTable(plan, rows);
    await atomicWriteFile(doc, spliceTable(readFileSync(doc, 'utf8'), table, relative(root, doc)));
    mkdirSync(resultsDir, { recursive: true });
    await atomicWriteFile(`${archive}.csv`, renderCsv([...rows.values()]));
    if (rows.size) {
      const files = figureFiles(planName, await renderFigure(accuracyVsTimeSpec([...rows.values()])));
      for (const [name, data] of Object.entries(files)) await atomicWriteFile(join(resultsDir, name), data);
    }
    return { table, recorded: rows.size };
  }

  const todo = plan.runs.filter((e) => (!only || only.includes(e.name)) && !collectRow(archive, e));
  if (!values['report-only']) {
    process.stderr.write(
      todo.length
        ? `sweep ${planName}: ${todo.length} of ${plan.runs.length} entries to run: ${todo.map((e) => e.name).join(', ')}\n`
        : `sweep ${planName}: every entry has a record\n`,
    );
    for (const [i, e] of todo.entries()) {
      process.stderr.write(`\n[${i + 1}/${todo.length}] ${e.name}: ${e.note}\n`);
      const pretext = entryDir(runsRoot, e.name, 'pretext');
      const mine = entryDir(runsRoot, e.name, 'mine');
      const common = [`profile=${plan.profile}`, ...e.overrides];
      runStage(['pretext', ...common, '--out', pretext]);
      runStage(['mine', ...common, '--input', `pretext=${pretext}`, '--out', mine]);
      for (const [stage, dir] of [
        ['pretext', pretext],
        ['mine', mine],
      ] as const) {
        const dst = entryDir(archive, e.name, stage);
        mkdirSync(dst, { recursive: true });
        cpSync(dir, dst, { recursive: true, filter: (f) => !f.endsWith('.safetensors') && !f.includes('.tmp') });
      }
      await writeReport(); // the table is current after every entry, also when a later one is stopped
      const row = collectRow(archive, e)!;
      process.stderr.write(
        `${e.name}: ${row.wallMinutes.toFixed(1)} min, kNN ${(100 * row.knnAccuracy).toFixed(1)}%, top-${row.neighbors} purity ${(100 * row.purity).toFixed(1)}%\n`,
      );
    }
  }

  const { table, recorded } = await writeReport();
  process.stdout.write(`\n${table}`);
  process.stderr.write(
    `\nsweep ${planName}: ${recorded} of ${plan.runs.length} entries recorded; table in ${relative(root, doc)}\n`,
  );
}

main().catch((e: Error) => {
  process.stderr.write(`sweep: ${e.message}\n`);
  process.exit(1);
});
