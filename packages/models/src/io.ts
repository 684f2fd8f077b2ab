// Model files: safetensors in PyTorch layout and naming, so official checkpoints convert by renaming only
// (tools/convert/pth_to_safetensors.py) and our files load in PyTorch with `load_state_dict`.
import { readFile } from 'node:fs/promises';
import { atomicWriteFile, readSafetensors, writeSafetensors } from '@scan-repro/core';
import type { NamedModule } from './models';
import { loadStateDict, stateDict, type LoadStateDictOptions, type LoadStateDictReport } from './stateDict';

/** Writes the model's state dict (parameters + BN buffers) atomically. */
export async function saveModel(
  path: string,
  model: NamedModule,
  metadata: Record<string, string> = {},
): Promise<void> {
  await atomicWriteFile(path, writeSafetensors(stateDict(model), metadata));
}

/** Loads a safetensors state dict into the model; returns the file's metadata and what was (not) loaded. */
export async function loadModel(
  path: string,
  model: NamedModule,
  opts: Omit<LoadStateDictOptions, 'source'> = {},
): Promise<LoadStateDictReport & { metadata: Record<string, string> }> {
  let bytes: Uint8Array;
  try {
    bytes = new Uint8Array(await readFile(path));
  } catch (e) {
    throw new Error(`loadModel: cannot read model file '${path}': ${(e as Error).message}`);
  }
  const { tensors, metadata } = readSafetensors(bytes, path);
  const report = loadStateDict(model, tensors, { ...opts, source: path });
  return { ...report, metadata };
}
