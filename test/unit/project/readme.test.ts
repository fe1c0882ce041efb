import { readFileSync } from 'node:fs';
import { fileURLToPath } from 'node:url';
import ts from 'typescript';
import { describe, expect, it } from 'vitest';

/**
 * The README is run, not just read: its TypeScript blocks form one deploy script that must type-check (strict, NodeNext)
 * against the packages' public API, and its test command is the one CI runs.
 */
const ROOT = fileURLToPath(new URL('../../../', import.meta.url));
const README = readFileSync(`${ROOT}README.md`, 'utf8');

interface Block {
  lang: string;
  /** 1-based README line of the block's first code line. */
  line: number;
  code: string;
}

function codeBlocks(markdown: string): Block[] {
  const blocks: Block[] = [];
  const lines = markdown.split('\n');
  for (let i = 0; i < lines.length; i++) {
    const open = /^```(\w+)\s*$/.exec(lines[i] ?? '');
    if (!open) continue;
    const end = lines.indexOf('```', i + 1);
    blocks.push({ lang: open[1] ?? '', line: i + 2, code: lines.slice(i + 1, end).join('\n') });
    i = end;
  }
  return blocks;
}

const FILE = `${ROOT}README.md.ts`;
const OPTIONS: ts.CompilerOptions = {
  target: ts.ScriptTarget.ES2022,
  module: ts.ModuleKind.NodeNext,
  moduleResolution: ts.ModuleResolutionKind.NodeNext,
  strict: true,
  noEmit: true,
  skipLibCheck: true,
  types: ['node'],
  // The sources, as the tests import them (the published types are the same declarations, built).
  paths: {
    '@4pass/builder': [`${ROOT}packages/builder/src/index.ts`],
    '@4pass/optimizer': [`${ROOT}packages/optimizer/src/index.ts`],
  },
};
/** A compiler host serving `FILE` from memory; every other file is parsed once and kept for the next check. */
const host = ts.createCompilerHost(OPTIONS);
let virtual = '';
const parsed = new Map<string, ts.SourceFile | undefined>();
const { getSourceFile, fileExists, readFile } = host;
host.fileExists = (f) => f === FILE || fileExists.call(host, f);
host.readFile = (f) => (f === FILE ? virtual : readFile.call(host, f));
host.getSourceFile = (f, ...rest) => {
  if (f === FILE) return ts.createSourceFile(f, virtual, ts.ScriptTarget.ES2022, true);
  if (!parsed.has(f)) parsed.set(f, getSourceFile.call(host, f, ...rest));
  return parsed.get(f);
};

/** Type-checks the blocks as one module `<repo>/README.md.ts`; returns its diagnostics as `README.md:<line>: <message>`. */
function typeCheck(blocks: Block[]): string[] {
  const readmeLine: number[] = [];
  for (const b of blocks) b.code.split('\n').forEach((_, i) => readmeLine.push(b.line + i));
  virtual = blocks.map((b) => b.code).join('\n');
  const program = ts.createProgram([FILE], OPTIONS, host);
  const source = program.getSourceFile(FILE);
  const diagnostics = [...program.getSyntacticDiagnostics(source), ...program.getSemanticDiagnostics(source)];
  return diagnostics.map((d) => {
    const at = d.file && d.start !== undefined ? d.file.getLineAndCharacterOfPosition(d.start).line : 0;
    return `README.md:${readmeLine[at] ?? '?'}: ${ts.flattenDiagnosticMessageText(d.messageText, '\n')}`;
  });
}

describe('README.md', () => {
  const blocks = codeBlocks(README);

  it('has TypeScript examples, and together they type-check as one strict deploy script', () => {
    const examples = blocks.filter((b) => b.lang === 'ts');
    expect(examples.length).toBeGreaterThanOrEqual(2);
    expect(typeCheck(examples)).toEqual([]);
  });

  it('the type check catches a wrong example (reading a property the result does not have)', () => {
    const wrong: Block = { lang: 'ts', line: 1, code: "import { runImages } from '@4pass/builder';\n" };
    wrong.code += 'declare const r: Awaited<ReturnType<typeof runImages>>;\nconsole.log(r.pass);';
    expect(typeCheck([wrong])).toEqual([
      expect.stringMatching(/^README\.md:3: Property 'pass' does not exist on type 'RunImagesResult'/),
    ]);
  });

  it('its test command is the one .ci/run runs', () => {
    const ci = readFileSync(`${ROOT}.ci/run`, 'utf8').trim().split('\n').at(-1);
    const commands = blocks.filter((b) => b.lang === 'sh').flatMap((b) => b.code.split('\n'));
    const testCommand = commands.map((l) => l.replace(/\s+#.*$/, '').trim()).find((l) => l.endsWith('pnpm test'));
    expect(testCommand).toBe('bash scripts/bootstrap.sh --test && pnpm test');
    expect(ci).toBe(testCommand);
  });

  it('pnpm test runs lint, the function-length and cycle checks, typecheck, the API report check, the format check, unit, browser, then engine tests', () => {
    const pkg = JSON.parse(readFileSync(`${ROOT}package.json`, 'utf8')) as { scripts: Record<string, string> };
    const steps = pkg.scripts.test?.split('&&').map((s) => s.trim());
    expect(steps).toEqual([
      'pnpm run lint',
      'pnpm run check:functions',
      'pnpm run check:cycles',
      'pnpm run typecheck',
      'pnpm run api:check',
      'pnpm run format:check',
      'pnpm run test:unit',
      'pnpm run test:browser',
      'pnpm run test:engine',
    ]);
  });
});
