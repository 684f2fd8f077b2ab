import { readFileSync } from 'node:fs';
import { join, resolve } from 'node:path';
import { Writable } from 'node:stream';
import { describe, expect, it } from 'vitest';
import { readManifest, stageHash, composeConfig } from '@scan-repro/core';
import { runStageCommand } from '../src/run-stage';
import { STAGES, loadStage, type StageSpec } from '../src/stages';
import { tempDir } from '@scan-repro/test-utils';

const tmp = tempDir('scan-cli');
const fixture = join(__dirname, 'fixtures/count-stage.ts');
const spec = (name: StageSpec['name'], inputs: StageSpec['inputs'], exportName = 'runCount'): StageSpec => ({
  name,
  description: 'test',
  module: fixture,
  exportName,
  inputs,
});
// Results go to the temp folder too: the repo's results/ holds only committed, recorded runs.
const base = [
  'profile=ci',
  'backend.name=cpu',
  `run.root=${tmp}`,
  `tracking.results_dir=${join(tmp, 'results')}`,
  'tracking.uri=',
];

function io() {
  let text = '';
  const stdout = new Writable({
    write(c, _e, cb) {
      text += String(c);
      cb();
    },
  });
  return { io: { stdout, cwd: tmp, env: {} }, text: () => text };
}

describe('runStageCommand', () => {
  it('runs a stage into its default run folder, then skips it when complete', async () => {
    const first = io();
    const m = await runStageCommand(spec('pretext', []), base, {}, first.io);
    const cfg = composeConfig(base, { env: {} });
    const dir = join(tmp, 'cifar10', `pretext-${stageHash(cfg, 'pretext').slice(0, 12)}`);
    expect(m!.status).toBe('complete');
    expect(m!.metrics).toEqual({ images: 300, clusters: 10 });
    expect(m!.backend).toBe('cpu');
    expect(await readManifest(dir)).toEqual(m);
    expect(first.text()).toMatch(
      new RegExp(
        `pretext complete in [0-9.]+ s on cpu backend\\nrun folder: ${dir}\\nmetrics:\\n  clusters  10\\n  images    300\\ncounted 300`,
      ),
    );

    // the finished run was handed to tracking: one local record, keyed by run folder + config hash
    const records = readFileSync(join(tmp, 'results', 'runs.jsonl'), 'utf8')
      .trim()
      .split('\n')
      .map((l) => JSON.parse(l));
    // (run_dir is stored relative to the results folder's parent, so committed records are portable)
    expect(records.map((r) => [resolve(tmp, r.run_dir), r.config_hash, r.stage])).toEqual([
      [dir, m!.configHash, 'pretext'],
    ]);

    const second = io();
    const again = await runStageCommand(spec('pretext', []), base, {}, second.io);
    expect(second.text()).toContain('pretext: already complete for this config');
    expect(again!.startedAt).toBe(m!.startedAt);
    const forced = await runStageCommand(spec('pretext', []), base, { force: true }, io().io);
    expect(forced!.startedAt).not.toBe(m!.startedAt);
  });

  it('finds upstream runs by config hash, or takes --input; scan.* changes do not touch mine', async () => {
    const m = await runStageCommand(spec('mine', ['pretext']), base, {}, io().io);
    expect(m!.metrics.images).toBe(600); // 300 + the pretext run's 300
    expect(m!.inputs.pretext.configHash).toBe(stageHash(composeConfig(base, { env: {} }), 'pretext'));
    const skipped = io();
    await runStageCommand(spec('mine', ['pretext']), [...base, 'scan.lr=0.5'], {}, skipped.io);
    expect(skipped.text()).toContain('already complete');
    await expect(
      runStageCommand(spec('mine', ['pretext']), [...base, 'pretext.temperature=0.3'], {}, io().io),
    ).rejects.toThrow(
      /stage mine needs input 'pretext': pass --input pretext=DIR, or run `scan-repro pretext` with the same config first/,
    );
    const out = join(tmp, 'explicit-mine');
    const explicit = await runStageCommand(
      spec('mine', ['pretext']),
      [...base, 'pretext.temperature=0.3'],
      { out, input: [`pretext=${m!.inputs.pretext.dir}`] },
      io().io,
    );
    expect(explicit!.inputs.pretext.dir).toBe(m!.inputs.pretext.dir);
    expect(JSON.parse(readFileSync(join(out, 'counts.json'), 'utf8')).upstream).toEqual({ pretext: 300 });
  });

  it('--print-config prints config, stage hash and folder without running', async () => {
    const p = io();
    expect(
      await runStageCommand(spec('scan', ['pretext', 'mine'], 'missing'), base, { printConfig: true }, p.io),
    ).toBeNull();
    expect(p.text()).toContain('entropy_weight: 5');
    expect(p.text()).toMatch(/# stage config hash: [0-9a-f]{64}\n# run folder: .*scan-[0-9a-f]{12}\n$/);
  });

  it('says clearly when a stage is not available', async () => {
    await expect(
      runStageCommand(spec('pretext', [], 'runNothing'), [...base, 'pretext.lr=0.3'], {}, io().io),
    ).rejects.toThrow(`stage pretext is not available: ${fixture} does not export a function runNothing (yet)`);
    await expect(
      loadStage({ name: 'eval', module: '@scan-repro/does-not-exist', exportName: 'runEval' }),
    ).rejects.toThrow(/stage eval is not available: @scan-repro\/does-not-exist could not be loaded/);
    await expect(loadStage({ name: 'eval', module: fixture, exportName: 'notAFunction' })).rejects.toThrow(
      'does not export a function notAFunction',
    );
  });

  it('marks the run failed when the stage throws', async () => {
    const out = join(tmp, 'broken');
    await expect(runStageCommand(spec('pretext', [], 'runBroken'), base, { out }, io().io)).rejects.toThrow(
      'stage exploded',
    );
    const m = JSON.parse(readFileSync(join(out, 'manifest.json'), 'utf8'));
    expect(m).toMatchObject({ status: 'failed', error: 'stage exploded', backend: 'cpu' });
  });

  it('the stage table covers every stage with its inputs (architecture.md)', () => {
    expect(STAGES.map((s) => [s.name, s.exportName, s.inputs])).toEqual([
      ['pretext', 'runPretext', []],
      ['mine', 'runMine', ['pretext']],
      ['scan', 'runScan', ['pretext', 'mine']],
      ['selflabel', 'runSelflabel', ['scan']],
      ['eval', 'runEval', ['pretext', 'mine', 'scan']],
    ]);
  });
});
