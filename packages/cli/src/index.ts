// @scan-repro/cli: the command-line shell (bin/scan-repro.js runs src/main.ts). Nothing imports it, so it exports
// nothing; its tests import the modules they test.
export {};
