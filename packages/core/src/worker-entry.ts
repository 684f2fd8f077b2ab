// The repo runs TypeScript without a build step, and a worker thread inherits neither the test runner's nor
// tsx's module hooks: its entry registers tsx itself, then imports the TypeScript worker module.
import { createRequire } from 'node:module';
import { dirname, join } from 'node:path';
import { pathToFileURL } from 'node:url';

/** A `new Worker(...)` entry (a data: URL) that runs the TypeScript module `module` (a file: URL). */
export function typescriptWorkerEntry(module: URL): URL {
  const req = createRequire(import.meta.url);
  const tsxPkgPath = req.resolve('tsx/package.json');
  const tsxPkg = req(tsxPkgPath) as { exports: Record<string, { import: { default: string } }> };
  const tsxApi = pathToFileURL(join(dirname(tsxPkgPath), tsxPkg.exports['./esm/api'].import.default)).href;
  const code = `import { register } from ${JSON.stringify(tsxApi)}; register(); await import(${JSON.stringify(module.href)});`;
  return new URL(`data:text/javascript,${encodeURIComponent(code)}`);
}
