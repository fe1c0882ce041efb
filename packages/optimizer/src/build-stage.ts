import { readFile } from 'node:fs/promises';
import { closureDirectory } from './closure/closure.js';
import { OptimizerError } from './shared/errors.js';
import { optimizeDirectory } from './optimize/optimize-directory.js';
import { parseProfile } from './profile/profile.js';

/**
 * The optimizer as a step of a Dockerfile (bundled into one file, `dist/stage/optimizer.cjs`, which @4pass/builder adds
 * to the build context at `.4pass/`), so BuildKit caches its work like any other step and a remote engine does it
 * where the data is:
 *
 *   node optimizer.cjs optimize VENV PROFILE.json     slims VENV in place
 *   node optimizer.cjs closure ROOTFS PROFILE.json    writes the profile's closure of ROOTFS to stdout as a tar
 *
 * Each prints its whole report as one line `4pass-stage-report {"command":…,"report":…}` to stderr (BuildKit shows it
 * in the step's log; @4pass/builder reads it from there), and exits 1 with the reason on stderr when it fails.
 */
export const STAGE_REPORT_PREFIX = '4pass-stage-report ';

export async function runBuildStage(argv: readonly string[]): Promise<number> {
  const [command, dir, profileFile] = argv;
  if (!dir || !profileFile || (command !== 'optimize' && command !== 'closure')) {
    process.stderr.write('usage: node optimizer.cjs optimize VENV PROFILE.json | closure ROOTFS PROFILE.json\n');
    return 2;
  }
  try {
    const profile = parseProfile(JSON.parse(await readFile(profileFile, 'utf8')) as unknown);
    const summary = command === 'optimize' ? await optimize(dir, profile) : await closure(dir, profile);
    process.stderr.write(`${STAGE_REPORT_PREFIX}${JSON.stringify({ command, ...summary })}\n`);
    return 0;
  } catch (error) {
    const known = error instanceof OptimizerError || error instanceof SyntaxError;
    process.stderr.write(`${command} ${dir} failed: ${known ? (error as Error).message : String(error)}\n`);
    if (!known && error instanceof Error && error.stack) process.stderr.write(`${error.stack}\n`);
    return 1;
  }
}

async function optimize(dir: string, profile: ReturnType<typeof parseProfile>) {
  return { report: await optimizeDirectory(dir, profile) };
}

async function closure(dir: string, profile: ReturnType<typeof parseProfile>) {
  if (!profile.closure) throw new OptimizerError(`the profile has no "closure": nothing to cut ${dir} down to`);
  const report = await closureDirectory(dir, process.stdout, profile.closure);
  await new Promise<void>((resolve) => process.stdout.write('', () => resolve()));
  return { report };
}

// Run when bundled as the stage's entry point (not when imported by tests).
if (process.argv[1]?.endsWith('optimizer.cjs')) {
  void runBuildStage(process.argv.slice(2)).then((code) => {
    process.exitCode = code;
  });
}
