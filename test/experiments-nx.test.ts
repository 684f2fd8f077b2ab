// Nx mechanics of the experiment layer on real stages (pretext + mine at the ci profile, real CIFAR-10): shared
// nodes run once, a second reproduce is all cache hits that restore outputs, an upstream change re-runs
// downstream only, missing data stops a stage target with the message but not `run-many -t reproduce`, the
// self-hosted remote cache protocol fills and serves, tables render measured and missing rows, MLflow tags.
import { appendFileSync, existsSync, readFileSync, rmSync } from 'node:fs';
import { join } from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { startRemoteCacheServer, type RemoteCacheServer } from '@scan-repro/nx-plugin/src';
import { generateTables } from '@scan-repro/tables';
import { cacheCounts, makeWorkspace, mlflowRunTags, nx, removeWorkspace } from './experiments-workspace';

const EXPERIMENT = (title: string) => `title: "${title}"
feeds: fig-neighbor-purity
datasets: [cifar10, stl10]
seeds: {paper: 1, cpu: 1, ci: 1}
rows:
  - row: purity
    label: neighbour purity
    ablation: {factor: num_neighbors, value: curve}
    until: mine
    metrics: {k1: train_neighbor_accuracy_at_1, k5: train_neighbor_accuracy_at_5}
`;
const TOKEN = 'test-token';

let ws: string;
let server: RemoteCacheServer;
let env: Record<string, string>;
const manifest = (rel: string) =>
  JSON.parse(readFileSync(join(ws, rel, 'manifest.json'), 'utf8')) as {
    status: string;
    startedAt: string;
    metrics: Record<string, number>;
  };
const PRETEXT = 'runs/ci/cifar10-simclr/pretext';
const MINE = 'runs/ci/cifar10-simclr-mine/mine';
const reproduce = ['run-many', '-t', 'reproduce', '-c', 'ci'];

beforeAll(async () => {
  ws = makeWorkspace({ 'exp-a': EXPERIMENT('A'), 'exp-b': EXPERIMENT('B') });
  server = await startRemoteCacheServer({ dir: join(ws, 'remote-cache'), token: TOKEN });
  env = { NX_SELF_HOSTED_REMOTE_CACHE_SERVER: server.url, NX_SELF_HOSTED_REMOTE_CACHE_ACCESS_TOKEN: TOKEN };
});
afterAll(async () => {
  await server?.close();
  if (ws) removeWorkspace(ws);
});

describe('nx run-many -t reproduce -c ci on a small experiment set', () => {
  it('runs the shared pretext and mine once for two experiments and records the missing STL-10 row', async () => {
    const r = await nx(ws, reproduce, env);
    expect(r.status, r.out).toBe(0);
    expect(r.out).toMatch(/cifar10-simclr:pretext:ci/);
    expect(r.out).not.toMatch(/stl10-simclr:pretext/); // no data: not a dependency of reproduce
    expect(manifest(PRETEXT).status).toBe('complete');
    expect(manifest(MINE).status).toBe('complete');
    for (const exp of ['exp-a', 'exp-b']) {
      const rec = JSON.parse(readFileSync(join(ws, 'runs/ci', exp, 'reproduce.json'), 'utf8'));
      expect(rec.rows.map((x: { id: string; status: string }) => [x.id, x.status])).toEqual([
        ['cifar10--purity', 'complete'],
        ['stl10--purity', 'data-missing'],
      ]);
      expect(rec.rows[1].message).toMatch(
        /STL-10 \(binary version\) not found: expected .*stl10_binary.* or .*stl10_binary\.tar\.gz/,
      );
      expect(rec.rows[0].results[0].dir).toBe(MINE);
    }
    expect(server.stats.stored).toBe(4); // pretext, mine, 2 x reproduce pushed to the remote cache
  }, 300_000);

  it('a second reproduce with nothing changed is all cache hits and restores deleted outputs', async () => {
    const before = [manifest(PRETEXT).startedAt, manifest(MINE).startedAt];
    let r = await nx(ws, reproduce, env);
    expect(r.status, r.out).toBe(0);
    expect(cacheCounts(r.out)).toEqual([4, 4]);
    rmSync(join(ws, 'runs'), { recursive: true, force: true });
    r = await nx(ws, reproduce, env);
    expect(r.status, r.out).toBe(0);
    expect(cacheCounts(r.out)).toEqual([4, 4]);
    expect([manifest(PRETEXT).startedAt, manifest(MINE).startedAt]).toEqual(before);
    expect(existsSync(join(ws, 'runs/ci/exp-a/reproduce.json'))).toBe(true);
  }, 300_000);

  it('a change to the mine package re-runs mine and what is below it, not pretext', async () => {
    const pretextStart = manifest(PRETEXT).startedAt;
    const mineStart = manifest(MINE).startedAt;
    appendFileSync(join(ws, 'packages/mine/src/index.ts'), '\n// touched by experiments-nx.test.ts\n');
    const r = await nx(ws, reproduce, env);
    expect(r.status, r.out).toBe(0);
    expect(cacheCounts(r.out)).toEqual([1, 4]); // only pretext from the cache
    expect(manifest(PRETEXT).startedAt).toBe(pretextStart);
    expect(manifest(MINE).startedAt > mineStart).toBe(true);
  }, 300_000);

  it('a change upstream (pretext package) re-runs pretext, mine and both reproduce records', async () => {
    const mineStart = manifest(MINE).startedAt;
    const pretextStart = manifest(PRETEXT).startedAt;
    appendFileSync(join(ws, 'packages/pretext/src/index.ts'), '\n// touched by experiments-nx.test.ts\n');
    const r = await nx(ws, reproduce, env);
    expect(r.status, r.out).toBe(0);
    expect(cacheCounts(r.out)).toBeNull(); // nothing came from the cache
    expect(manifest(PRETEXT).startedAt > pretextStart).toBe(true);
    expect(manifest(MINE).startedAt > mineStart).toBe(true); // through dependentTasksOutputFiles (manifest.json)
  }, 300_000);

  it('running a stage target on missing data exits non-zero and says which file goes where', async () => {
    const r = await nx(ws, ['run', 'stl10-simclr:pretext', '-c', 'ci'], env);
    expect(r.status).not.toBe(0);
    expect(r.out).toMatch(
      /pretext on stl10 cannot run: data missing\. STL-10 \(binary version\) not found: expected \S*stl10_binary/,
    );
  }, 120_000);

  it('the self-hosted remote cache serves a machine with an empty local cache (and wants the token)', async () => {
    rmSync(join(ws, 'runs'), { recursive: true, force: true });
    const hitsBefore = server.stats.hits;
    const r = await nx(ws, reproduce, { ...env, NX_CACHE_DIRECTORY: join(ws, '.nx/other-machine-cache') });
    expect(r.status, r.out).toBe(0);
    expect(cacheCounts(r.out)).toEqual([4, 4]);
    expect(r.out).toMatch(/remote cache/);
    expect(server.stats.hits - hitsBefore).toBe(4);
    expect(manifest(MINE).status).toBe('complete');
    const denied = await fetch(`${server.url}/v1/cache/abc`);
    expect(denied.status).toBe(401);
    const put = await fetch(`${server.url}/v1/cache/abc`, {
      method: 'PUT',
      body: 'x',
      headers: { authorization: `Bearer ${TOKEN}` },
    });
    expect(put.status).toBe(200);
    const again = await fetch(`${server.url}/v1/cache/abc`, {
      method: 'PUT',
      body: 'y',
      headers: { authorization: `Bearer ${TOKEN}` },
    });
    expect(again.status).toBe(409);
  }, 300_000);

  it('tables render the measured row from its manifest and "data missing" for the STL-10 row', async () => {
    const { markdown, files } = await generateTables({
      root: ws,
      outMd: join(ws, 'paper-tables.md'),
      resultsDir: join(ws, 'results-tables'),
      profiles: ['ci'],
    });
    const m = manifest(MINE).metrics;
    const k1 = (m.train_neighbor_accuracy_at_1 * 100).toFixed(1);
    const k5 = (m.train_neighbor_accuracy_at_5 * 100).toFixed(1);
    // the figure's columns are k1..k100; this row measures k1 and k5 (ci mines 10 neighbours): the rest are n/a
    expect(markdown).toContain(
      `| neighbour purity (\`cifar10--purity\`) | – | ${k1} ± 0.0 / ${k5} ± 0.0 / n/a / n/a / n/a | ${k1} / ${k5} / n/a / n/a / n/a | 1 | ci |`,
    );
    expect(markdown).toContain('width 8');
    expect(markdown).toContain(`[results-tables/${MINE}](results-tables/${MINE})`); // the archived record
    expect(markdown).toMatch(/`stl10--purity`\) \| – \| not run: data missing \(stl10\)/);
    expect(files).toContain(join(ws, 'results-tables', 'fig-neighbor-purity.png'));
    expect(files).toContain(join(ws, 'results-tables', 'fig-neighbor-purity.vl.json'));
    const csv = readFileSync(join(ws, 'results-tables', 'fig-neighbor-purity.csv'), 'utf8');
    expect(csv).toContain('not run: data-missing');
  }, 60_000);

  it.skipIf(!process.env.MLFLOW_TRACKING_URI)(
    "MLflow: the stage runs are in the table's experiment with table / node / seed tags",
    async () => {
      const tagSets = await mlflowRunTags('scan-repro/fig-neighbor-purity', "tags.node = 'cifar10-simclr-mine'");
      expect(tagSets.length).toBeGreaterThanOrEqual(1);
      expect(tagSets[0]).toMatchObject({
        table: 'fig-neighbor-purity',
        node: 'cifar10-simclr-mine',
        stage: 'mine',
        profile: 'ci',
        seed: '0',
        experiments: 'exp-a,exp-b',
      });
    },
    60_000,
  );
});
