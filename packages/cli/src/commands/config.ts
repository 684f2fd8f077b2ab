// `scan-repro config [overrides...]`: print the resolved config and its hashes (exit 2 on a config error).
import type { Command } from 'commander';
import {
  composeConfig,
  configHash,
  configToYaml,
  flattenConfig,
  stageConfigGroups,
  stageHash,
  type StageName,
} from '@scan-repro/core';

export function register(program: Command): void {
  program
    .command('config')
    .description('print the resolved config (YAML) with its hash and the per-stage hashes')
    .argument('[overrides...]', 'group choices (dataset=stl10) and key overrides (scan.entropy_weight=5)')
    .option('--json', 'print JSON instead of YAML')
    .option('--flat', 'print one key=value line per leaf (as MLflow params)')
    .addHelpText(
      'after',
      `
Layers, later wins: schema defaults < configs/config.yaml < group files (dataset last) < profile
< env (SCAN_DATA_DIR, MLFLOW_TRACKING_URI) < overrides.
Examples:
  scan-repro config dataset=stl10 profile=paper
  scan-repro config scan.entropy_weight=2 dataset.mean=[0.5,0.5,0.5]`,
    )
    .action((overrides: string[], opts: { json?: boolean; flat?: boolean }) => {
      const cfg = composeConfig(overrides);
      if (opts.json) {
        process.stdout.write(JSON.stringify(cfg, null, 2) + '\n');
        return;
      }
      if (opts.flat) {
        process.stdout.write(
          Object.entries(flattenConfig(cfg))
            .map(([k, v]) => `${k}=${v}\n`)
            .join(''),
        );
        return;
      }
      process.stdout.write(configToYaml(cfg));
      process.stdout.write(`# config hash: ${configHash(cfg)}\n`);
      for (const stage of Object.keys(stageConfigGroups) as StageName[]) {
        process.stdout.write(`# ${stage} hash: ${stageHash(cfg, stage)}\n`);
      }
    });
}
