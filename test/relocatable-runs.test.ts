// Nx restores cached run folders into whatever checkout asks for them, so a run folder must not name the checkout
// that made it: real stages (ci profile, real CIFAR-10) run in workspace A, their folders are copied into
// workspace B, and B's files hold no path of A while a downstream stage in B finds and verifies its inputs.
import { spawnSync } from 'node:child_process';
import { cpSync, readdirSync, readFileSync } from 'node:fs';
import { join } from 'node:path';
import { afterAll, describe, expect, it } from 'vitest';
import { readManifest, resolveRecordedPath } from '@scan-repro/core';
import { makeWorkspace, removeWorkspace } from './experiments-workspace';

const made: string[] = [];
afterAll(() => made.forEach(removeWorkspace));

// tracking.results_dir given relative to the workspace: the profile's own value resolves against the configs of the
// checkout whose code runs (the repo's, through node_modules)
function cli(ws: string, args: string[]) {
  const r = spawnSync(
    join(ws, 'node_modules/.bin/tsx'),
    [
      join(ws, 'packages/cli/src/main.ts'),
      ...args,
      'dataset=cifar10',
      'profile=ci',
      'tracking.results_dir=runs/ci/records',
    ],
    {
      cwd: ws,
      encoding: 'utf8',
      env: { ...process.env, MLFLOW_TRACKING_URI: '' },
    },
  );
  expect(r.status, `${args.join(' ')}\n${r.stdout}\n${r.stderr}`).toBe(0);
}

function files(dir: string): string[] {
  return readdirSync(dir, { withFileTypes: true }).flatMap((e) =>
    e.isDirectory() ? files(join(dir, e.name)) : [join(dir, e.name)],
  );
}

describe('run folders copied into another checkout', () => {
  it('hold no path of the checkout that made them, and downstream stages there find their inputs', async () => {
    const a = makeWorkspace({});
    const b = makeWorkspace({});
    made.push(a, b);
    cli(a, ['pretext', '--out', 'runs/ci/p/pretext']);
    cli(a, ['mine', '--out', 'runs/ci/m/mine', '--input', 'pretext=runs/ci/p/pretext']);
    cpSync(join(a, 'runs'), join(b, 'runs'), { recursive: true });

    const copied = files(join(b, 'runs'));
    expect(copied.map((f) => f.slice(b.length + 1))).toEqual(
      expect.arrayContaining([
        'runs/ci/m/mine/config.yaml',
        'runs/ci/m/mine/manifest.json',
        'runs/ci/records/runs.jsonl',
      ]),
    );
    expect(copied.filter((f) => readFileSync(f, 'latin1').includes(a))).toEqual([]);

    const mine = await readManifest(join(b, 'runs/ci/m/mine'));
    expect(mine.inputs.pretext.dir).toBe('runs/ci/p/pretext');
    expect((await readManifest(resolveRecordedPath(mine.inputs.pretext.dir, b), { verify: true })).stage).toBe(
      'pretext',
    );
    const config = readFileSync(join(b, 'runs/ci/m/mine/config.yaml'), 'utf8');
    expect(config).toMatch(/^ {2}out: runs\/ci\/m\/mine$/m);
    expect(config).toMatch(/^ {2}results_dir: runs\/ci\/records$/m);

    cli(b, [
      'scan',
      '--out',
      'runs/ci/s/scan',
      '--input',
      'pretext=runs/ci/p/pretext',
      '--input',
      'mine=runs/ci/m/mine',
    ]);
    const scan = await readManifest(join(b, 'runs/ci/s/scan'));
    expect(Object.fromEntries(Object.entries(scan.inputs).map(([k, v]) => [k, [v.dir, v.configHash]]))).toEqual({
      pretext: ['runs/ci/p/pretext', mine.inputs.pretext.configHash],
      mine: ['runs/ci/m/mine', mine.configHash],
    });
  }, 600_000);
});
