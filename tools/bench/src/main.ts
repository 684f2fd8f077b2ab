// `npm run bench -- <suite> [options]`: benchmarks by name. Add a suite by adding an entry that imports its module.
type Suite = { describe: string; run(args: string[]): Promise<void> };

const suites: Record<string, () => Promise<Suite>> = {
  backend: () => import('./backend-bench'),
  augment: () => import('./augment'),
};

async function main(): Promise<void> {
  const [name, ...args] = process.argv.slice(2);
  if (!name || name === '--help' || !(name in suites)) {
    const lines = await Promise.all(
      Object.entries(suites).map(async ([n, load]) => `  ${n.padEnd(10)} ${(await load()).describe}`),
    );
    const problem = name && name !== '--help' ? `unknown benchmark suite '${name}'\n` : '';
    console.error(`${problem}usage: npm run bench -- <suite> [options]\nsuites:\n${lines.join('\n')}`);
    process.exit(name && name !== '--help' ? 2 : 0);
  }
  await (await suites[name]!()).run(args);
}

await main();

export {};
