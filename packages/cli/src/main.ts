// Entry point: `npm run scan-repro -- <command> ...` or the `scan-repro` bin (bin/scan-repro.js).
import { createProgram } from './program';
import { reportError } from './errors';

// `scan-repro config | head` closes the pipe early: that is not an error.
process.stdout.on('error', (e: NodeJS.ErrnoException) => { if (e.code === 'EPIPE') process.exit(0); else throw e; });

try {
  const program = await createProgram();
  await program.parseAsync(process.argv);
} catch (err) {
  process.exitCode = reportError(err);
}
