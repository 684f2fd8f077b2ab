// One command per entry of the stage table: `scan-repro <stage> [overrides...] --out DIR --input name=DIR`.
import type { Command } from 'commander';
import { runStageCommand } from '../run-stage';
import { STAGES } from '../stages';

const collect = (value: string, previous: string[]) => [...previous, value];

export function register(program: Command): void {
  for (const spec of STAGES) {
    const inputs = [...spec.inputs, ...(spec.optionalInputs ?? []).map((n) => `${n} (optional)`)];
    program
      .command(spec.name)
      .description(spec.description)
      .argument('[overrides...]', 'group choices and key overrides, as for `scan-repro config`')
      .option('--out <dir>', 'run folder (default: run.out, else <run.root>/<dataset>/<stage>-<stage hash>)')
      .option(
        '--input <name=dir>',
        `upstream run folder, repeatable (${inputs.length ? inputs.join(', ') : 'none'}); default: the complete run of this config in its default folder`,
        collect,
        [],
      )
      .option('--print-config', 'print the resolved config, stage hash and run folder, then exit without running')
      .option('--force', 'run even if the run folder already holds a complete run of this config')
      .action(async (overrides: string[], opts) => {
        await runStageCommand(spec, overrides, opts);
      });
  }
}
