// A throw-away copy of the workspace that runs its own code: the root files, configs/ and every workspace package
// copied (tools/native left out: its build step installs native TensorFlow), and a node_modules of its own in which
// @scan-repro/* link to the copies, as `npm install` links them, and everything else links to the repo's installed
// packages. Unlike makeWorkspace (experiments-workspace.ts), whose @scan-repro/* are the repo's packages, files added
// to the copy (a generated dataset package and its configs/dataset file) are seen by the CLI and the nx-plugin.
import { cpSync, existsSync, mkdirSync, mkdtempSync, readdirSync, readFileSync, symlinkSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join, relative } from 'node:path';
import { REPO } from './experiments-workspace';

const ROOT_FILES = ['nx.json', 'package.json', 'package-lock.json', 'tsconfig.base.json', '.gitignore'];
/** Workspace packages not copied: tools/native builds native TensorFlow (the copy runs on wasm). */
const LEFT_OUT = ['tools/native'];

export function copyWorkspace(): string {
  const ws = mkdtempSync(join(tmpdir(), 'scan-ws-copy-'));
  for (const f of ROOT_FILES) cpSync(join(REPO, f), join(ws, f));
  cpSync(join(REPO, 'configs'), join(ws, 'configs'), { recursive: true });
  mkdirSync(join(ws, 'node_modules', '@scan-repro'), { recursive: true });
  for (const group of ['packages', 'tools']) {
    for (const name of readdirSync(join(REPO, group)).sort()) {
      const rel = `${group}/${name}`;
      const manifest = join(REPO, rel, 'package.json');
      if (LEFT_OUT.includes(rel) || !existsSync(manifest)) continue;
      // A package's own node_modules (versions that differ from the hoisted ones) stays the repo's.
      cpSync(join(REPO, rel), join(ws, rel), {
        recursive: true,
        filter: (src) => !relative(join(REPO, rel), src).split('/').includes('node_modules'),
      });
      if (existsSync(join(REPO, rel, 'node_modules')))
        symlinkSync(join(REPO, rel, 'node_modules'), join(ws, rel, 'node_modules'), 'dir');
      const pkgName = (JSON.parse(readFileSync(manifest, 'utf8')) as { name: string }).name;
      if (pkgName.startsWith('@scan-repro/'))
        symlinkSync(join('..', '..', rel), join(ws, 'node_modules', pkgName), 'dir');
    }
  }
  for (const entry of readdirSync(join(REPO, 'node_modules'))) {
    if (entry !== '@scan-repro') symlinkSync(join(REPO, 'node_modules', entry), join(ws, 'node_modules', entry));
  }
  return ws;
}
