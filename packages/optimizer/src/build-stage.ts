import { readFile } from 'node:fs/promises';
import { closureDirectory } from './closure/closure.js';
import { OptimizerError } from './shared/errors.js';
import { optimizeDirectory } from './optimize/optimize-directory.js';
import { parseProfile } from './profile/profile.js';
import { STAGE_REPORT_PREFIX } from './report/stage-report.js';

// The build stage's entry point, bundled by esbuild into dist/stage/optimizer.cjs. Its commands and the report line it
// prints are described at STAGE_REPORT_PREFIX (report/stage-report.ts), which @4pass/builder imports to read that line.
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
