#!/usr/bin/env zx
// `pnpm bench [build|optimizer|worker|api]...`: runs the named benchmarks (all when none is named). Each prints a
// table measured side by side against the baseline its issue names.
import { fileURLToPath } from 'node:url';

const all = ['build', 'optimizer', 'worker', 'api'];
const names = argv._.length ? argv._.map(String) : all;
const unknown = names.filter((n) => !all.includes(n));
if (unknown.length) {
  console.error(`unknown benchmark ${unknown.join(', ')}; choose from ${all.join(', ')}`);
  process.exit(2);
}
for (const name of names) {
  const script = fileURLToPath(new URL(`./bench-${name}.mjs`, import.meta.url));
  echo(chalk.bold(`\n=== bench ${name} ===`));
  await $({ stdio: 'inherit' })`zx ${script} ${process.argv.slice(3).filter((a) => a.startsWith('--'))}`;
}
