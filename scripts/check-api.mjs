#!/usr/bin/env node
// pnpm api:check / pnpm api:update — the public API of each package entry (every "types" in a package.json "exports"
// map) as an API Extractor report, packages/<name>/api/<entry>.api.md, read from the built .d.ts (run after a build).
// check exits 1 when the surface differs from the checked-in report, or a public signature names a type the entry does
// not export; update rewrites the reports. Offline, one process for all entries.
import { mkdirSync, readdirSync, readFileSync } from 'node:fs';
import { join, resolve } from 'node:path';
import { fileURLToPath } from 'node:url';
import { CompilerState, Extractor, ExtractorConfig, ExtractorLogLevel } from '@microsoft/api-extractor';

const root = resolve(fileURLToPath(import.meta.url), '../..');
const update = process.argv.includes('--update');

/**
 * One entry per `exports` subpath with types: `.` → report `<name>`, `./config` → report `<name>-config`. `./internal`
 * (the building blocks, no stability promise) has no report.
 */
function entries() {
  return readdirSync(join(root, 'packages')).flatMap((dir) => {
    const folder = join(root, 'packages', dir);
    const manifest = JSON.parse(readFileSync(join(folder, 'package.json'), 'utf8'));
    return Object.entries(manifest.exports ?? {})
      .filter(([subpath, target]) => typeof target === 'object' && target.types && subpath !== './internal')
      .map(([subpath, target]) => ({
        folder,
        types: join(folder, target.types),
        report: [dir, ...subpath.split('/').slice(1)].join('-'),
      }));
  });
}

function configFor({ folder, types, report }) {
  return ExtractorConfig.prepare({
    configObjectFullPath: join(folder, 'api-extractor.json'), // not read: where relative paths start
    packageJsonFullPath: join(folder, 'package.json'),
    configObject: {
      projectFolder: folder,
      mainEntryPointFilePath: types,
      compiler: {
        overrideTsconfig: {
          compilerOptions: {
            module: 'nodenext',
            moduleResolution: 'nodenext',
            target: 'es2022',
            types: ['node'],
            skipLibCheck: true, // as the packages are built
          },
          files: [types],
        },
      },
      apiReport: {
        enabled: true,
        reportFileName: report,
        reportFolder: join(folder, 'api'),
        reportTempFolder: join(folder, 'node_modules/.cache/api-extractor'),
      },
      docModel: { enabled: false },
      dtsRollup: { enabled: false },
      tsdocMetadata: { enabled: false },
      newlineKind: 'lf',
      messages: {
        compilerMessageReporting: { default: { logLevel: 'warning' } },
        extractorMessageReporting: {
          default: { logLevel: 'warning' },
          'ae-undocumented': { logLevel: 'none' },
          // No @public/@beta tags here: everything an entry exports is public.
          'ae-missing-release-tag': { logLevel: 'none' },
          // A public signature naming a type the entry does not export: export it on purpose, or stop using it.
          'ae-forgotten-export': { logLevel: 'error', addToApiReportFile: false },
        },
        // Our comments are JSDoc, not TSDoc; what they must say is checked in review.
        tsdocMessageReporting: { default: { logLevel: 'none' } },
      },
    },
  });
}

/** API Extractor's own "copy the file" advice: the status line and the hint at the end say it for this repo. */
const SAID_BELOW = new Set([
  'console-api-report-not-copied',
  'console-api-report-copied',
  'console-api-report-created',
]);

const all = entries();
const configs = all.map(configFor);
// One TypeScript program for every entry: the packages share most of their declarations.
const compilerState = CompilerState.create(configs[0], { additionalEntryPoints: all.map((e) => e.types) });
let failed = 0;
for (const [i, entry] of all.entries()) {
  mkdirSync(join(entry.folder, 'api'), { recursive: true });
  const result = Extractor.invoke(configs[i], {
    compilerState,
    localBuild: update,
    printApiReportDiff: !update,
    messageCallback(message) {
      message.handled = true;
      if (message.logLevel !== ExtractorLogLevel.Error && message.logLevel !== ExtractorLogLevel.Warning) return;
      if (SAID_BELOW.has(message.messageId)) return;
      const at = message.sourceFilePath ? ` (${message.sourceFilePath}:${message.sourceFileLine})` : '';
      process.stdout.write(`${entry.report}: ${message.text}${at}\n`);
    },
  });
  const state = result.apiReportChanged ? (update ? 'report updated' : 'API changed') : 'unchanged';
  process.stdout.write(`${result.succeeded ? 'ok  ' : 'FAIL'}  api/${entry.report}.api.md  ${state}\n`);
  if (!result.succeeded) failed++;
}
if (failed > 0 && !update)
  process.stderr.write('api:check failed: review the change above, then `pnpm api:update` and commit the report.\n');
process.exitCode = failed > 0 ? 1 : 0;
