// Builds the commander program. Commands live in ./commands/*.ts, one module per command (group); each exports
// `register(program)`. They are discovered at start-up so that adding a command is adding a file. Command modules
// must import heavy packages (tfjs, stages) lazily inside their actions to keep `scan-repro --help` fast.
import { readdirSync } from 'node:fs';
import { fileURLToPath } from 'node:url';
import { Command } from 'commander';
import { log } from '@scan-repro/core';

export async function createProgram(): Promise<Command> {
  const program = new Command('scan-repro')
    .description('SCAN (Van Gansbeke et al., ECCV 2020) reproduced in TypeScript: config, stages, runs')
    .showHelpAfterError()
    .enablePositionalOptions();
  const dir = fileURLToPath(new URL('./commands/', import.meta.url));
  const files = readdirSync(dir)
    .filter((f) => /\.(ts|js)$/.test(f) && !/\.(test|d)\.ts$/.test(f))
    .sort();
  for (const file of files) {
    try {
      const mod = (await import(new URL(`./commands/${file}`, import.meta.url).href)) as {
        register?: (p: Command) => void | Promise<void>;
      };
      if (typeof mod.register !== 'function') {
        log.warn(`commands/${file} does not export register(program); skipped`);
        continue;
      }
      await mod.register(program);
    } catch (e) {
      // One broken command file must not take the whole CLI down.
      log.warn(`commands/${file} failed to load and is skipped: ${String((e as Error)?.message ?? e).split('\n')[0]}`);
    }
  }
  return program;
}
