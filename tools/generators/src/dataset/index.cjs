// Nx require()s generator factories. Node 20 cannot run TypeScript directly and this repo has no build step,
// so register tsx (a root dev dependency) for .ts files first, then hand Nx the TypeScript generator.
require('tsx/cjs/api').register();
module.exports = require('./generator.ts');
