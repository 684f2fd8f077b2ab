// Prints what native TensorFlow is installed (the Nx runtime input of native:build): which variant each
// tfjs-node package name points at and a hash of its addon, or "absent". With nothing installed the line also
// carries a one-off nonce: the build's outcome lives in node_modules (not in any Nx output), so a cached result
// from another clone, or from before a fresh `npm ci`, must never stand in for running it. Once an addon is
// installed the line is stable and the task replays from the cache.
import { createHash, randomUUID } from 'node:crypto';
import { existsSync, readFileSync, realpathSync } from 'node:fs';
import { join } from 'node:path';

const modules = join(process.cwd(), 'node_modules');
const parts = ['tfjs-node', 'tfjs-node-gpu'].map((name) => {
  const addon = join(modules, '@tensorflow', name, 'lib/napi-v8/tfjs_binding.node');
  if (!existsSync(addon)) return `${name}=absent`;
  const digest = createHash('sha256').update(readFileSync(addon)).digest('hex').slice(0, 16);
  return `${name}=${realpathSync(join(modules, '@tensorflow', name))
    .split('/')
    .pop()}:${digest}`;
});
if (parts.every((p) => p.endsWith('=absent'))) parts.push(`run=${randomUUID()}`);
console.log(parts.join(' '));
