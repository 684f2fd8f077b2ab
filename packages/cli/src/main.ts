// Entry point: `npm run scan-repro -- <command> ...` or the `scan-repro` bin (bin/scan-repro.js).
import { runCli } from './run';

// `scan-repro config | head` closes the pipe early: that is not an error.
process.stdout.on('error', (e: NodeJS.ErrnoException) => {
  if (e.code === 'EPIPE') process.exit(0);
  else throw e;
});

process.exitCode = await runCli(process.argv.slice(2));
