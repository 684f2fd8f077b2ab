import * as tf from '@tensorflow/tfjs-core';
import { afterEach, describe, expect, test, vi } from 'vitest';
import '@tensorflow/tfjs-backend-cpu';
import { initBackend } from '../src/index';

describe('initBackend', () => {
  afterEach(() => { delete process.env.SCAN_BACKEND; vi.restoreAllMocks(); });

  // On this machine the native packages cannot load (not installed, or no libtensorflow): auto must say so.
  test('auto picks wasm and prints why tfjs-node(-gpu) were skipped', async () => {
    await initBackend({ name: 'wasm', quiet: true });
    await tf.setBackend('cpu'); // forget the cached choice
    const lines: string[] = [];
    vi.spyOn(console, 'log').mockImplementation((...a: unknown[]) => { lines.push(a.join(' ')); });
    const choice = await initBackend({ name: 'auto' });
    expect(choice.name).toBe('wasm');
    expect(choice.reason).toMatch(/@tensorflow\/tfjs-node-gpu (not installed|failed to load|loaded but found no GPU)/);
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
    await expect(initBackend({ quiet: true })).rejects.toThrow(/SCAN_BACKEND: unknown backend 'gpu', expected one of auto, tensorflow-gpu, tensorflow, wasm, cpu/);
    await expect(initBackend({ name: 'webgl' as never, quiet: true })).rejects.toThrow(/option name: unknown backend 'webgl'/);
    await expect(initBackend({ name: 'cpu', threads: 0, quiet: true })).rejects.toThrow(/threads 0/);
  });

  test('an explicitly requested backend that cannot load is an error, not a silent fallback', async () => {
    await expect(initBackend({ name: 'tensorflow', quiet: true })).rejects.toThrow(/@tensorflow\/tfjs-node/);
  });
});
