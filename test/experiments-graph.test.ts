// The experiment graph of the real experiments/: shared stage nodes, per-row evals, reproduce dependencies,
// data-missing handling in the graph, and the task graph Nx itself builds from the plugin.
import { spawnSync } from 'node:child_process';
import { readFileSync } from 'node:fs';
import { availableParallelism } from 'node:os';
import { join } from 'node:path';
import { describe, expect, it } from 'vitest';
import YAML from 'yaml';
import {
  buildPlan,
  experimentProject,
  loadPlan,
  nodeProject,
  parseExperiment,
  stageTasksAtOnce,
  ExperimentError,
  type Plan,
} from '@scan-repro/nx-plugin/src';
import { REPO } from './experiments-workspace';
import { testTempDir } from '@scan-repro/test-utils';

const plan = await loadPlan(REPO);
const node = (name: string) => {
  const n = plan.nodes.get(name);
  if (!n) throw new Error(`no node ${name}; nodes: ${[...plan.nodes.keys()].join(', ')}`);
  return n;
};
const rowsOf = (exp: string) => plan.rows.filter((r) => r.experiment.name === exp);

describe('experiment plan (experiments/*/experiment.yaml)', () => {
  it('covers every table and figure of the paper numbers file, and nothing else', () => {
    const paper = YAML.parse(readFileSync(join(REPO, 'tools/tables/paper-numbers.yaml'), 'utf8')) as Record<
      string,
      unknown
    >;
    const fed = new Set(plan.experiments.map((e) => e.feeds));
    expect([...fed].sort()).toEqual(Object.keys(paper).sort());
    for (const k of [
      'table1',
      'table2',
      'table3',
      'table4',
      'table5',
      'overclustering',
      'fig-neighbors',
      'fig-threshold',
      'fig-neighbor-purity',
    ]) {
      expect(fed.has(k)).toBe(true);
    }
  });

  it('a table without paper numbers is a sample-scale experiment of ours: it says why and holds no paper value', () => {
    const paper = YAML.parse(readFileSync(join(REPO, 'tools/tables/paper-numbers.yaml'), 'utf8')) as Record<
      string,
      { columns: string[]; no_paper_numbers?: string; rows: Record<string, Record<string, unknown>> }
    >;
    const without = Object.entries(paper).filter(([, t]) => t.no_paper_numbers !== undefined);
    // the only one: Table 4's protocol on the ImageNet sample of ../shared/data (ILSVRC and MoCo v2 absent)
    expect(without.map(([k]) => k)).toEqual(['table4-sample']);
    const [key, table] = without[0];
    expect(table.no_paper_numbers).toBe('sample scale');
    for (const row of Object.values(table.rows)) for (const c of table.columns) expect(row[c]).toBeUndefined();
    const feeders = plan.experiments.filter((e) => e.feeds === key);
    expect(feeders.map((e) => e.name)).toEqual(['table4-imagenet-sample']);
    // same rows and columns as Table 4 (K-means, SCAN, SCAN + self-labeling; top-1 / top-5 / NMI / ARI)
    expect(feeders[0].rows.map((r) => [r.id, r.dataset, Object.keys(r.metrics)])).toEqual([
      ['kmeans', 'imagenet_sample', ['top1', 'nmi', 'ari']],
      ['scan', 'imagenet_sample', ['top1', 'top5', 'nmi', 'ari']],
      ['scan-selflabel', 'imagenet_sample', ['top1', 'top5', 'nmi', 'ari']],
    ]);
    expect(table.columns).toEqual(paper.table4.columns);
  });

  it('runs the ImageNet sample rows on the data in ../shared/data, with a SimCLR pretext trained here', () => {
    const rows = rowsOf('table4-imagenet-sample');
    expect(rows.every((r) => r.available.ok)).toBe(true);
    expect(new Set(rows.map((r) => r.nodes.pretext))).toEqual(new Set(['imagenet_sample-simclr']));
    expect(node('imagenet_sample-simclr-mine-scan').seeds).toEqual({ paper: 3, cpu: 2, ci: 1 });
  });

  it('shares one pretext and one mine node among all CIFAR-10 SimCLR rows of Tables 1-3', () => {
    for (const exp of ['table1-components', 'table3-sota', 'fig-threshold', 'overclustering']) {
      for (const r of rowsOf(exp).filter((x) => x.row.dataset === 'cifar10')) {
        expect(r.nodes.pretext).toBe('cifar10-simclr');
        expect(r.nodes.mine).toBe('cifar10-simclr-mine');
      }
    }
    const t2 = rowsOf('table2-pretext');
    expect(t2.filter((r) => r.row.row.startsWith('instdisc')).map((r) => r.nodes.scan)).toEqual([
      'cifar10-simclr-mine-scan',
      'cifar10-simclr-mine-scan',
    ]);
    expect(t2.filter((r) => r.row.row.startsWith('rotnet')).map((r) => r.nodes.pretext)).toEqual([
      'cifar10-rotnet',
      'cifar10-rotnet',
    ]);
    expect(node('cifar10-simclr').experiments).toEqual(
      expect.arrayContaining(['table1-components', 'table2-pretext', 'table3-sota', 'fig-threshold', 'overclustering']),
    );
    // exactly one pretext node per (dataset, method)
    const pretexts = [...plan.nodes.values()]
      .filter((n) => n.stage === 'pretext')
      .map((n) => n.name)
      .sort();
    expect(pretexts).toEqual([
      'cifar10-rotnet',
      'cifar10-simclr',
      'cifar100-20-simclr',
      'imagenet-import',
      'imagenet_100-import',
      'imagenet_200-import',
      'imagenet_50-import',
      'imagenet_sample-simclr',
      'stl10-simclr',
    ]);
  });

  it("dedups by resolved config: threshold 0.99 (the config value) is Table 1's self-labeling node; 0.95 is not", () => {
    const th = rowsOf('fig-threshold');
    expect(th.find((r) => r.row.sweep?.value === '0.99')!.nodes.selflabel).toBe('cifar10-simclr-mine-scan-selflabel');
    expect(th.find((r) => r.row.sweep?.value === '0.95')!.nodes.selflabel).toBe(
      'cifar10-simclr-mine-scan-selflabel-threshold-0_95',
    );
    expect(rowsOf('table1-components').find((r) => r.row.row === 'scan-selflabel')!.nodes.selflabel).toBe(
      'cifar10-simclr-mine-scan-selflabel',
    );
  });

  it('generates seed variants from one definition: a shared node runs the largest seed count any user asks for', () => {
    expect(node('cifar10-simclr').seeds).toBeNull(); // one pretext model for all seeds (paper protocol)
    expect(node('cifar10-simclr-mine-scan').seeds).toEqual({ paper: 10, cpu: 2, ci: 1 });
    expect(node('imagenet_50-import-mine-scan').seeds).toEqual({ paper: 3, cpu: 1, ci: 1 });
    const p = nodeProject(node('cifar10-simclr-mine-scan'), plan).targets.scan as {
      configurations: Record<string, { seeds: number }>;
    };
    expect(p.configurations.paper.seeds).toBe(10);
    expect(p.configurations.cpu.seeds).toBe(2);
    expect(p.configurations.ci.seeds).toBe(1);
  });

  it('runs training tasks one at a time unless each is single-threaded wasm', () => {
    expect(stageTasksAtOnce({})).toBe(1);
    expect(stageTasksAtOnce({ SCAN_BACKEND: 'wasm' })).toBe(1);
    expect(stageTasksAtOnce({ SCAN_BACKEND: 'tensorflow', SCAN_WASM_THREADS: '1' })).toBe(1);
    expect(stageTasksAtOnce({ SCAN_BACKEND: 'wasm', SCAN_WASM_THREADS: '1' })).toBe(availableParallelism());
    const scan = (p: Plan) => nodeProject(node('cifar10-simclr-mine-scan'), p).targets.scan as { parallelism: boolean };
    expect(scan({ ...plan, stageTasksAtOnce: 1 }).parallelism).toBe(false);
    expect(scan({ ...plan, stageTasksAtOnce: 2 }).parallelism).toBe(true);
  });

  it('expands the K sweep into one SCAN node per K on one K=100 mining, K=0 included', () => {
    const ks = rowsOf('fig-neighbors').filter((r) => r.row.dataset === 'cifar10');
    expect(ks.map((r) => r.row.sweep!.value)).toEqual(['0', '1', '5', '20', '50', '100']);
    expect(new Set(ks.map((r) => r.nodes.mine))).toEqual(new Set(['cifar10-simclr-mine-k-100']));
    expect(new Set(ks.map((r) => r.nodes.scan)).size).toBe(6);
    expect(node('cifar10-simclr-mine-k-100-scan-num_neighbors-0').overrides).toContain('scan.num_neighbors=0');
  });

  it('reproduce depends only on rows whose data exists; missing rows are recorded, not run', () => {
    const exp = plan.experiments.find((e) => e.name === 'table3-sota')!;
    const project = experimentProject(exp, plan, 'experiments/table3-sota');
    const reproduce = project.targets.reproduce as { dependsOn: unknown[] };
    expect(reproduce.dependsOn).toEqual([
      'eval--cifar10--kmeans',
      'eval--cifar10--scan-loss',
      'eval--cifar10--scan-selflabel',
    ]);
    const stl = rowsOf('table3-sota').find((r) => r.row.dataset === 'stl10')!;
    expect(stl.available.ok).toBe(false);
    expect(stl.available.ok ? '' : stl.available.message).toMatch(
      /STL-10 \(binary version\) not found: expected .*stl10_binary/,
    );
    expect(project.tags).toContain('data:missing');
    // the eval aggregate still covers every row: running it (a stage target) on missing data fails loudly
    expect((project.targets.eval as { dependsOn: string[] }).dependsOn).toContain('eval--stl10--scan-selflabel');
  });

  it('ImageNet needs the MoCo weights named by SCAN_MOCO_WEIGHTS as well as the data', () => {
    const r = rowsOf('table4-imagenet-subsets')[0];
    expect(r.available.ok ? '' : r.available.message).toMatch(/SCAN_MOCO_WEIGHTS/);
    expect(node('imagenet_50-import').overrides).toEqual([]);
  });

  it('rejects a bad override with the file, key and what was expected', () => {
    const bad = (yaml: string) => () => parseExperiment('x', '/tmp/x/experiment.yaml', yaml);
    const base =
      'title: t\nfeeds: t\ndataset: cifar10\nseeds: {paper: 1, cpu: 1, ci: 1}\nrows:\n  - {row: a, label: a, ablation: {factor: f, value: v}, ';
    expect(bad(`${base}overrides: [profile.seed=3]}\n`)).toThrow(
      /\/tmp\/x\/experiment.yaml: rows\[0\]\.overrides = "profile.seed=3": expected no profile.\* override/,
    );
    expect(bad(`${base}until: eval}\n`)).toThrow(ExperimentError);
    const exp = parseExperiment('x', '/tmp/x/experiment.yaml', `${base}overrides: [scan.entropy_wieght=5]}\n`);
    expect(() => buildPlan([exp], REPO)).toThrow(/scan.entropy_wieght/);
  });
});

describe('Nx task graph (the plugin loaded by Nx itself)', () => {
  it('table1-components:reproduce -c ci: one pretext, one mine, per-row evals, expected dependencies', () => {
    const dir = testTempDir('scan-graph');
    const file = join(dir, 'graph.json');
    const r = spawnSync(
      join(REPO, 'node_modules/.bin/nx'),
      ['run', 'table1-components:reproduce', '-c', 'ci', `--graph=${file}`],
      {
        cwd: REPO,
        encoding: 'utf8',
        env: { ...process.env, NX_DAEMON: 'false', NX_NO_CLOUD: 'true' },
        timeout: 120_000,
      },
    );
    expect(r.status, r.stderr).toBe(0);
    const g = JSON.parse(readFileSync(file, 'utf8')) as {
      tasks: { tasks: Record<string, unknown>; dependencies: Record<string, ({ id: string } | string)[]> };
    };
    const tasks = Object.keys(g.tasks.tasks).sort();
    expect(tasks).toEqual(
      [
        'cifar10-simclr-mine-scan-augmentation-simclr:scan:ci',
        'cifar10-simclr-mine-scan-selflabel:selflabel:ci',
        'cifar10-simclr-mine-scan:scan:ci',
        'cifar10-simclr-mine:mine:ci',
        'cifar10-simclr:pretext:ci',
        'table1-components:eval--kmeans:ci',
        'table1-components:eval--scan-selflabel:ci',
        'table1-components:eval--scan-simclr-aug:ci',
        'table1-components:eval--scan-strong-aug:ci',
        'table1-components:reproduce:ci',
        'native:build',
      ].sort(),
    );
    // Nx 24 writes dependencies as [{ id }]; older versions as plain ids
    const all = Object.fromEntries(
      Object.entries(g.tasks.dependencies).map(([k, v]) => [k, v.map((d) => (typeof d === 'string' ? d : d.id))]),
    );
    // every stage task (training and eval) runs after native:build; the rest of the edges are the pipeline's
    for (const t of tasks.filter((x) => !x.includes(':reproduce:') && x !== 'native:build'))
      expect(all[t], t).toContain('native:build');
    const deps = Object.fromEntries(Object.entries(all).map(([k, v]) => [k, v.filter((d) => d !== 'native:build')]));
    expect(deps['cifar10-simclr:pretext:ci']).toEqual([]);
    expect(deps['cifar10-simclr-mine:mine:ci']).toEqual(['cifar10-simclr:pretext:ci']);
    expect(deps['cifar10-simclr-mine-scan:scan:ci']).toEqual(['cifar10-simclr-mine:mine:ci']);
    expect(deps['cifar10-simclr-mine-scan-augmentation-simclr:scan:ci']).toEqual(['cifar10-simclr-mine:mine:ci']);
    expect(deps['table1-components:eval--scan-selflabel:ci']).toEqual([
      'cifar10-simclr-mine-scan-selflabel:selflabel:ci',
    ]);
    expect(deps['table1-components:reproduce:ci'].sort()).toEqual(tasks.filter((t) => t.includes(':eval--')).sort());
  }, 120_000);
});
