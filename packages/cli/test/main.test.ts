// The CLI as a user runs it: a separate process through npx tsx, checking output and exit codes.
import { spawn } from 'node:child_process';
import { writeFileSync } from 'node:fs';
import { join } from 'node:path';
import YAML from 'yaml';
import { describe, expect, it } from 'vitest';
import { projectRoot } from '@scan-repro/core';
import { testTempDir } from '@scan-repro/test-utils';

function cli(args: string[]): Promise<{ code: number | null; stdout: string; stderr: string }> {
  return new Promise((resolve) => {
    const env = { ...process.env };
    delete env.SCAN_DATA_DIR;
    delete env.MLFLOW_TRACKING_URI;
    const child = spawn('npx', ['tsx', join('packages', 'cli', 'src', 'main.ts'), ...args], {
      cwd: projectRoot(),
      env,
    });
    let stdout = '',
      stderr = '';
    child.stdout.on('data', (d) => {
      stdout += d;
    });
    child.stderr.on('data', (d) => {
      stderr += d;
    });
    child.on('close', (code) => resolve({ code, stdout, stderr }));
  });
}

describe('scan-repro config (spawned)', () => {
  it('exit codes and output', async () => {
    const [ok, badKey, badChoice, badValue, help] = await Promise.all([
      cli(['config', 'dataset=stl10', 'profile=paper', 'scan.entropy_weight=4']),
      cli(['config', 'scan.entropy_weigth=5']),
      cli(['config', 'dataset=cifar11']),
      cli(['config', 'scan.batch_size=0']),
      cli(['scan', '--help']),
    ]);
    expect(ok.code).toBe(0);
    const printed = YAML.parse(ok.stdout);
    expect(printed.scan.entropy_weight).toBe(4);
    expect(printed.backbone.name).toBe('resnet18_stl');
    expect(ok.stdout).toMatch(/# config hash: [0-9a-f]{64}\n/);
    expect(ok.stdout).toMatch(/# pretext hash: [0-9a-f]{64}\n/);

    expect(badKey.code).toBe(2);
    expect(badKey.stderr).toContain(
      "scan.entropy_weigth (from override scan.entropy_weigth=5): expected a known config key; did you mean 'scan.entropy_weight'?",
    );
    expect(badKey.stdout).toBe('');
    expect(badChoice.code).toBe(2);
    expect(badChoice.stderr).toContain('dataset = "cifar11"');
    expect(badValue.code).toBe(2);
    expect(badValue.stderr).toContain(
      'scan.batch_size = 0 (from override scan.batch_size=0): expected an integer >= 1',
    );

    expect(help.code).toBe(0);
    expect(help.stdout).toContain('--input <name=dir>');
    expect(help.stdout).toContain('--print-config');
  });
});

describe('scan-repro expected failures (spawned)', () => {
  it('an --out that cannot be created prints one line naming the path; the stack only with --verbose', async () => {
    const file = join(testTempDir('scan-cli-out'), 'a-file');
    writeFileSync(file, '');
    const args = ['pretext', '--out', join(file, 'run'), 'dataset=cifar10', 'profile=ci'];
    const [plain, verbose] = await Promise.all([cli(args), cli([...args, '--verbose'])]);
    expect(plain.code).toBe(1);
    const errors = plain.stderr.split('\n').filter((l) => l.startsWith('scan-repro:') || l.startsWith('    at '));
    expect(errors).toEqual([`scan-repro: ENOTDIR: not a directory, mkdir '${join(file, 'run')}'`]);
    expect(verbose.code).toBe(1);
    expect(verbose.stderr).toMatch(/\n {4}at /);
  }, 180_000);
});
