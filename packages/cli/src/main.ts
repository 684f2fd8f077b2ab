// Entry point: `npm run scan-repro -- <command> ...` or the `scan-repro` bin (bin/scan-repro.js).
import { createProgram } from './program';
import { reportError } from './errors';

// `scan-repro config | head` closes the pipe early: that is not an error.
process.stdout.on('error', (e: NodeJS.ErrnoException) => {
  if (e.code === 'EPIPE') process.exit(0);
  else throw e;
});

// --verbose (anywhere on the line) adds stack traces to error reports; every command accepts it
const verbose = process.argv.includes('--verbose');
try {
  const program = await createProgram();
  await program.parseAsync(process.argv.filter((a) => a !== '--verbose'));
} catch (err) {
  process.exitCode = reportError(err, process.stderr, verbose);
}
