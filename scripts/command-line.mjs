// The flag parsing the CLIs share (build:images, release): minimist with the declared flags; --help prints the help
// and exits 0; an unknown flag, a stray argument or an empty value exits 2 naming it. Nothing else is loaded yet.
import { minimist } from 'zx';

const USAGE = 2;

/**
 * @param {{ command: string, help: string, valueFlags: string[], booleanFlags: string[], defaults?: object }} spec
 * @returns {{ args: Record<string, any>, fail: (code: number, message: string) => never }}
 */
export function parseCommandLine({ command, help, valueFlags, booleanFlags, defaults = {} }) {
  const fail = (code, message) => {
    process.stderr.write(`${command}: ${message}\n`);
    process.exit(code);
  };
  const args = minimist(process.argv.slice(3), {
    string: valueFlags,
    boolean: booleanFlags,
    alias: { h: 'help' },
    default: defaults,
  });
  if (args.help) {
    process.stdout.write(`${help}\n`);
    process.exit(0);
  }
  const known = new Set(['_', 'h', ...valueFlags, ...booleanFlags]);
  const unknown = [
    ...Object.keys(args)
      .filter((k) => !known.has(k))
      .map((f) => `--${f}`),
    ...args._,
  ];
  if (unknown.length) fail(USAGE, `unknown option ${unknown.join(', ')} (see --help)`);
  for (const flag of valueFlags)
    if ([args[flag]].flat().includes('')) fail(USAGE, `--${flag} needs a value (see --help)`);
  return { args, fail };
}
