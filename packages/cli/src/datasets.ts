// Dataset registration for the CLI's commands: the registry in @scan-repro/data finds and imports the workspace's
// dataset packages (loadDatasetPackages); this only turns "the config names a dataset nobody registered" into a
// CliError (one line, exit code of a usage error) that also names the packages that failed to load.
import { datasetSource, loadDatasetPackages, type DatasetPackagesLoad } from '@scan-repro/data';
import { CliError } from './errors';

/**
 * Imports every dataset package of the workspace (once per root). With `need` (a dataset.name), a name that is
 * still not registered afterwards is a CliError.
 */
export async function registerAllDatasets(opts: { root?: string; need?: string } = {}): Promise<DatasetPackagesLoad> {
  const result = await loadDatasetPackages(opts.root);
  if (opts.need) {
    try {
      datasetSource(opts.need); // looks the name up as openDataset does (aliases, case, '-'/'_' ignored)
    } catch (e) {
      throw new CliError((e as Error).message);
    }
  }
  return result;
}
