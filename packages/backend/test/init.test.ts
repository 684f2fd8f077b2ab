import * as tf from '@tensorflow/tfjs-core';
import { afterEach, describe, expect, test, vi } from 'vitest';
import '@tensorflow/tfjs-backend-cpu';
import { spawnSync } from 'node:child_process';
import { initBackend } from '../src/index';

// Whether the native backend loads here is a fact of the machine (it cannot install in this project's CI, a user
// with internet gets it): probe it in a child process, so the expectations below follow the machine.
const nativeLoads =
  spawnSync(process.execPath, ['-e', "require('@tensorflow/tfjs-node')"], { stdio: 'ignore' }).status === 0;

describe('initBackend', () => {
  afterEach(() => {
    delete process.env.SCAN_BACKEND;
    vi.restoreAllMocks();
  });

  // Without loadable native packages (not installed, or no libtensorflow) auto picks wasm and says why.
  test.skipIf(nativeLoads)('auto picks wasm and prints why tfjs-node(-gpu) were skipped', async () => {
    await initBackend({ name: 'wasm', quiet: true });
    await tf.setBackend('cpu'); // forget the cached choice
    const lines: string[] = [];
    vi.spyOn(console, 'log').mockImplementation((...a: unknown[]) => {
      lines.push(a.join(' '));
    });
    const choice = await initBackend({ name: 'auto' });
    expect(choice.name).toBe('wasm');
    expect(choice.reason).toMatch(/@tensorflow\/tfjs-node-gpu (not installed|failed to load|skipped: no NVIDIA GPU)/);
    expect(choice.reason).toMatch(/@tensorflow\/tfjs-node (not installed|failed to load)/);
    expect(lines).toEqual([`backend: wasm (${choice.reason})`]);
  });

  test('SCAN_BACKEND selects when the option does not, and an explicit option wins', async () => {
    process.env.SCAN_BACKEND = 'cpu';
    expect((await initBackend({ quiet: true })).name).toBe('cpu');
    expect((await initBackend({ quiet: true })).reason).toBe('set by SCAN_BACKEND');
    expect((await initBackend({ name: 'wasm', quiet: true })).name).toBe('wasm');
    expect(tf.getBackend()).toBe('wasm');
  });

  test('bad names are errors naming the source and the choices', async () => {
    process.env.SCAN_BACKEND = 'gpu';
    await expect(initBackend({ quiet: true })).rejects.toThrow(
      /SCAN_BACKEND: unknown backend 'gpu', expected one of auto, tensorflow-gpu, tensorflow, wasm, cpu/,
    );
    await expect(initBackend({ name: 'webgl' as never, quiet: true })).rejects.toThrow(
      /option name: unknown backend 'webgl'/,
    );
    await expect(initBackend({ name: 'cpu', threads: 0, quiet: true })).rejects.toThrow(/threads 0/);
  });

  test.skipIf(!nativeLoads)(
    'auto picks tfjs-node where it loads (no GPU build) and says why tfjs-node-gpu was skipped',
    async () => {
      await tf.setBackend('cpu');
      const lines: string[] = [];
      vi.spyOn(console, 'log').mockImplementation((...a: unknown[]) => {
        lines.push(a.join(' '));
      });
      const choice = await initBackend({ name: 'auto' });
      expect(choice.name).toBe('tensorflow');
      expect(choice.reason).toMatch(/@tensorflow\/tfjs-node-gpu (not installed|failed to load|skipped: no NVIDIA GPU)/);
      expect(lines).toEqual([`backend: tensorflow (${choice.reason})`]);
    },
  );

  test.skipIf(nativeLoads)(
    'an explicitly requested backend that cannot load is an error, not a silent fallback',
    async () => {
      await expect(initBackend({ name: 'tensorflow', quiet: true })).rejects.toThrow(/@tensorflow\/tfjs-node/);
    },
  );
});
