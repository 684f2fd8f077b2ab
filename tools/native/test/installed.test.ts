// The runtime input of native:build (tools/native/installed.mjs): with no addon installed it must differ on every
// call, so that Nx never replays a cached build (whose result lives in node_modules, not in an Nx output) in a
// clone or after an `npm ci` that has none; with an addon it is stable (the task replays) and names the variant.
import { spawnSync } from 'node:child_process';
import { mkdirSync, symlinkSync, writeFileSync } from 'node:fs';
import { dirname, join, resolve } from 'node:path';
import { fileURLToPath } from 'node:url';
import { describe, expect, it } from 'vitest';
import { testTempDir } from '@scan-repro/test-utils';

const SCRIPT = resolve(dirname(fileURLToPath(import.meta.url)), '../installed.mjs');
const line = (root: string) => {
  const r = spawnSync(process.execPath, [SCRIPT], { cwd: root, encoding: 'utf8' });
  expect(r.status, r.stderr).toBe(0);
  return r.stdout.trim();
};

describe('native:build runtime input', () => {
  it('differs on every call while no addon is installed', () => {
    const root = testTempDir('scan-native-installed');
    mkdirSync(join(root, 'node_modules/@tensorflow/tfjs-node'), { recursive: true }); // npm's copy, no addon
    const [a, b] = [line(root), line(root)];
    expect(a).toMatch(/^tfjs-node=absent tfjs-node-gpu=absent run=[0-9a-f-]{36}$/);
    expect(b).not.toBe(a);
  });

  it('is stable and names the variant and the addon digest once an addon is installed', () => {
    const root = testTempDir('scan-native-installed');
    const variant = join(root, 'node_modules/.scan-native/tf-2.18.1-cpu');
    mkdirSync(join(variant, 'lib/napi-v8'), { recursive: true });
    writeFileSync(join(variant, 'lib/napi-v8/tfjs_binding.node'), 'addon bytes');
    mkdirSync(join(root, 'node_modules/@tensorflow'), { recursive: true });
    symlinkSync('../.scan-native/tf-2.18.1-cpu', join(root, 'node_modules/@tensorflow/tfjs-node'));
    const a = line(root);
    expect(a).toMatch(/^tfjs-node=tf-2\.18\.1-cpu:[0-9a-f]{16} tfjs-node-gpu=absent$/);
    expect(line(root)).toBe(a);
  });
});
