// tools/native/build.sh where it cannot build: one line saying why and what to install, exit 0 (the main job goes
// on with wasm), the outcome in .cache/native/status.json, nothing installed; --required turns it into a failure.
// Runs a copy of the script in a throw-away root so that the repository's own install and status stay untouched.
import { spawnSync } from 'node:child_process';
import { copyFileSync, existsSync, mkdirSync, mkdtempSync, readFileSync, symlinkSync } from 'node:fs';
import { dirname, join, resolve } from 'node:path';
import { fileURLToPath } from 'node:url';
import { beforeEach, describe, expect, it } from 'vitest';
import { testTempDir } from '@scan-repro/test-utils';

const REPO = resolve(dirname(fileURLToPath(import.meta.url)), '../../..');
let root: string;

beforeEach(() => {
  root = testTempDir('scan-native');
  mkdirSync(join(root, 'tools/native'), { recursive: true });
  copyFileSync(join(REPO, 'tools/native/build.sh'), join(root, 'tools/native/build.sh'));
  mkdirSync(join(root, 'node_modules/@tensorflow'), { recursive: true });
  symlinkSync(join(REPO, 'node_modules/@tensorflow/tfjs-core'), join(root, 'node_modules/@tensorflow/tfjs-core'));
});

/** A PATH with node, npm and python3 but without the named tools. */
function pathWithout(missing: string[]): string {
  const bin = mkdtempSync(join(root, 'bin-'));
  for (const tool of [
    'node',
    'npm',
    'python3',
    'make',
    'c++',
    'bash',
    'dirname',
    'mkdir',
    'cat',
    'readlink',
    'ls',
    'head',
    'rm',
    'mv',
    'cp',
    'ln',
    'mktemp',
    'touch',
    'tar',
  ]) {
    if (missing.includes(tool)) continue;
    // python3 may be a version manager's shim that needs its own PATH: link the interpreter itself
    const which = tool === 'python3' ? `python3 -c 'import sys; print(sys.executable)'` : `command -v ${tool}`;
    const found = spawnSync('bash', ['-c', which], { encoding: 'utf8' }).stdout.trim();
    if (found) symlinkSync(found, join(bin, tool));
  }
  return bin;
}

function build(args: string[], env: Record<string, string>) {
  const r = spawnSync('bash', [join(root, 'tools/native/build.sh'), ...args], {
    encoding: 'utf8',
    env: { HOME: root, SCAN_NATIVE_CACHE: join(root, 'cache'), ...env },
  });
  return { status: r.status, lines: (r.stdout + r.stderr).trim().split('\n').filter(Boolean) };
}

const status = () =>
  JSON.parse(readFileSync(join(root, '.cache/native/status.json'), 'utf8')) as { ok: boolean; reason: string };

describe('tools/native/build.sh when it cannot build', () => {
  it('without a C++ compiler: one line naming what to install, exit 0, status ok=false, nothing installed', () => {
    const r = build([], { PATH: pathWithout(['c++']) });
    expect(r.status).toBe(0);
    expect(r.lines).toEqual(['native backend: not built (no C++ compiler: apt-get install g++); the stages use wasm']);
    expect(status()).toMatchObject({ ok: false, reason: 'no C++ compiler: apt-get install g++' });
    expect(existsSync(join(root, 'node_modules/@tensorflow/tfjs-node'))).toBe(false);
  });

  it('--required makes the same failure an error', () => {
    const r = build(['--required'], { PATH: pathWithout(['c++']) });
    expect(r.status).toBe(1);
    expect(r.lines).toHaveLength(1);
  });

  it('SCAN_NATIVE=0 skips the build and says so', () => {
    const r = build([], { PATH: pathWithout([]), SCAN_NATIVE: '0' });
    expect(r.status).toBe(0);
    expect(r.lines).toEqual(['native backend: not built (SCAN_NATIVE=0 turns it off); the stages use wasm']);
    expect(status().ok).toBe(false);
  });

  it('rejects an unknown option or TensorFlow version with one line and exit 2', () => {
    expect(build(['--tf', '2.99.0'], { PATH: pathWithout([]) })).toEqual({
      status: 2,
      lines: ['tools/native/build.sh: --tf 2.99.0 is not supported (expected 2.18.1 or 2.9.1)'],
    });
    expect(build(['--fast'], { PATH: pathWithout([]) }).status).toBe(2);
  });
});
