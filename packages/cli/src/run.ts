// The CLI as a function: parse `args` (without node and script), run the command, return the exit code. main.ts
// is the process shell around it; Nx's stage runner (tools/nx-plugin/src/run-stage.ts) calls it in its own
// process for a single run, which saves starting node and loading the modules a second time per task.
import { reportError } from './errors';
import { createProgram } from './program';

export async function runCli(args: string[]): Promise<number> {
  // --verbose (anywhere on the line) adds stack traces to error reports; every command accepts it
  const verbose = args.includes('--verbose');
  try {
    const program = await createProgram();
    await program.parseAsync(
      args.filter((a) => a !== '--verbose'),
      { from: 'user' },
    );
    return typeof process.exitCode === 'number' ? process.exitCode : 0;
  } catch (err) {
    return reportError(err, process.stderr, verbose);
  }
}
