// Prints what native TensorFlow is installed (the Nx runtime input of native:build): which variant each
// tfjs-node package name points at and a hash of its addon, or "absent". A fresh `npm ci` removes the install,
// which changes this line, so the cached build task runs again instead of replaying a stale success.
import { createHash } from 'node:crypto';
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
console.log(parts.join(' '));
