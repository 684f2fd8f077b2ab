import { dirname, join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { generateFiles, logger, names, type Tree } from '@nx/devkit';

export interface DatasetGeneratorSchema {
  /** dataset name in configs (dataset=<name>) and in the package name @scan-repro/dataset-<name> */
  name: string;
  numClasses?: number;
  imageSize?: number;
}

export const DATASET_NAME_PATTERN = /^[a-z][a-z0-9_-]*$/;

// Loaded as ESM by vitest and as CommonJS (through tsx) by Nx: find the templates either way.
const here = typeof __dirname === 'string' ? __dirname : dirname(fileURLToPath(import.meta.url));

/** Paths the generator writes for a dataset name (relative to the workspace root). */
export function datasetPaths(name: string): { projectRoot: string; configFile: string } {
  return { projectRoot: `packages/dataset-${name}`, configFile: `configs/dataset/${name}.yaml` };
}

/**
 * `nx g @scan-repro/tools:dataset <name>`: scaffolds packages/dataset-<name>/ (package.json, tsconfig,
 * vitest project, a reader skeleton that registers itself and implements the Dataset interface on a
 * placeholder binary format, and a test that writes a fixture in that format and reads it back) and the
 * config group file configs/dataset/<name>.yaml.
 */
export async function datasetGenerator(tree: Tree, schema: DatasetGeneratorSchema): Promise<() => void> {
  const name = schema.name?.trim() ?? '';
  if (!DATASET_NAME_PATTERN.test(name)) {
    throw new Error(
      `dataset name '${name}': expected lower-case letters, digits, '_' or '-', starting with a letter (e.g. flowers102)`,
    );
  }
  const numClasses = schema.numClasses ?? 10;
  const imageSize = schema.imageSize ?? 32;
  if (!Number.isInteger(numClasses) || numClasses < 1)
    throw new Error(`--numClasses ${numClasses}: expected an integer >= 1`);
  if (!Number.isInteger(imageSize) || imageSize < 1)
    throw new Error(`--imageSize ${imageSize}: expected an integer >= 1`);

  const { projectRoot, configFile } = datasetPaths(name);
  for (const path of [projectRoot, configFile]) {
    if (tree.exists(path)) throw new Error(`${path} already exists: pick another dataset name or remove it first`);
  }

  const n = names(name);
  const substitutions = {
    name,
    className: n.className, // flowers-102 -> Flowers102
    constantName: n.constantName, // flowers-102 -> FLOWERS102, my_data -> MY_DATA
    numClasses,
    imageSize,
    tmpl: '',
  };
  generateFiles(tree, join(here, 'files', 'package'), projectRoot, substitutions);
  generateFiles(tree, join(here, 'files', 'config'), 'configs/dataset', substitutions);

  return () => {
    logger.info(
      [
        `Created ${projectRoot} and ${configFile}. Next:`,
        `  1. npm install            (records @scan-repro/dataset-${name} in package-lock.json; the CLI and Nx find it without)`,
        `  2. implement the reader in ${projectRoot}/src/reader.ts and its fixture in test/reader.test.ts`,
        `  3. npx vitest run --project dataset-${name}`,
        `  4. npm run scan-repro -- data inspect ${name}`,
        'See docs/adding-a-dataset.md.',
      ].join('\n'),
    );
  };
}

export default datasetGenerator;
