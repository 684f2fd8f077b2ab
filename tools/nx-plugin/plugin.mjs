// Nx loads plugins with require()/import() and cannot run TypeScript on Node 20 without swc/ts-node, so this
// thin ESM entry loads the TypeScript sources through tsx (already the repo's runner).
import { tsImport } from 'tsx/esm/api';

const mod = await tsImport('./src/plugin.ts', import.meta.url);
export const createNodesV2 = mod.createNodesV2;
export const createNodes = mod.createNodes;
export const preTasksExecution = mod.preTasksExecution;
export const postTasksExecution = mod.postTasksExecution;
export const name = '@scan-repro/nx-plugin';
