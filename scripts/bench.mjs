#!/usr/bin/env zx
// `pnpm bench [build|optimizer|worker|api|scale|engines]...`: runs the named benchmarks (all when none is named). Each
// prints a table measured side by side against the baseline its issue names. `scale` and `engines` run under tsx: they
// start engines with the TypeScript harness in harness/ (shared with the engine tests; benches never import test code).
import { fileURLToPath } from 'node:url';

const all = ['build', 'optimizer', 'worker', 'api', 'scale', 'engines'];
const underTsx = ['scale', 'engines'];
const names = argv._.length ? argv._.map(String) : all;
const unknown = names.filter((n) => !all.includes(n));
if (unknown.length) {
  console.error(`unknown benchmark ${unknown.join(', ')}; choose from ${all.join(', ')}`);
  process.exit(2);
}
for (const name of names) {
  const script = fileURLToPath(new URL(`./bench-${name}.mjs`, import.meta.url));
  echo(chalk.bold(`\n=== bench ${name} ===`));
  const flags = process.argv.slice(3).filter((a) => a.startsWith('--'));
  if (underTsx.includes(name)) await $({ stdio: 'inherit' })`node --import tsx ${script} ${flags}`;
  else await $({ stdio: 'inherit' })`zx ${script} ${flags}`;
}
