#!/usr/bin/env node
// Launcher for the TypeScript CLI (no build step): register tsx's ESM loader, then run src/main.ts.
import { register } from 'tsx/esm/api';

register();
await import('../src/main.ts');
