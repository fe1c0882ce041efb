#!/usr/bin/env node
// pnpm check:functions — prints every function longer than 60 lines in packages/*/src (with the TypeScript compiler
// API, so arrows, methods and nested functions count too) and the length of runImages, the pipeline's map. Exits 1
// when a function outside generated code is over the limit. Generated code: a file whose first lines say
// "Generated" (or "@generated").
import { readdirSync, readFileSync } from 'node:fs';
import { join, relative, resolve } from 'node:path';
import { fileURLToPath } from 'node:url';
import ts from 'typescript';

const LIMIT = 60;
const root = resolve(fileURLToPath(import.meta.url), '../..');
const files = readdirSync(join(root, 'packages'))
  .flatMap((pkg) => {
    const src = join(root, 'packages', pkg, 'src');
    const entries = readdirSync(src, { recursive: true, encoding: 'utf8' });
    return entries.filter((f) => f.endsWith('.ts') && !f.endsWith('.d.ts')).map((f) => join(src, f));
  })
  .sort();

const functions = files.flatMap((file) => functionsIn(file));
const long = functions.filter((f) => f.lines > LIMIT).sort((a, b) => b.lines - a.lines);
const failing = long.filter((f) => !f.generated);

for (const f of long) {
  const note = f.generated ? '  (generated code)' : '';
  process.stdout.write(`${String(f.lines).padStart(5)}  ${f.where}  ${f.name}${note}\n`);
}
const map = functions.find((f) => f.name === 'runImages' && f.where.includes('/pipeline/'));
process.stdout.write(
  `\n${failing.length} function${failing.length === 1 ? '' : 's'} over ${LIMIT} lines outside generated code` +
    ` (${functions.length} functions in ${files.length} files)\n` +
    `runImages: ${map ? `${map.lines} lines (${map.where})` : 'not found'}\n`,
);
process.exitCode = failing.length > 0 ? 1 : 0;

/** Every function-like node of one file with its length in lines (signature to closing brace). */
function functionsIn(file) {
  const text = readFileSync(file, 'utf8');
  const source = ts.createSourceFile(file, text, ts.ScriptTarget.Latest, true);
  const generated = /^\s*(\/\/|\/\*+|\*)\s*(@generated|generated\b)/im.test(text.split('\n').slice(0, 5).join('\n'));
  const out = [];
  const visit = (node) => {
    if (ts.isFunctionLike(node) && 'body' in node && node.body) {
      const start = source.getLineAndCharacterOfPosition(node.getStart(source)).line;
      const end = source.getLineAndCharacterOfPosition(node.getEnd()).line;
      out.push({
        name: nameOf(node),
        lines: end - start + 1,
        where: `${relative(root, file)}:${start + 1}`,
        generated,
      });
    }
    ts.forEachChild(node, visit);
  };
  visit(source);
  return out;
}

/** `runImages`, `EcrRegistry.ensureRepository`, `createTtyRenderer → (arrow)`, … */
function nameOf(node) {
  const own = node.name && ts.isIdentifier(node.name) ? node.name.text : undefined;
  if (ts.isConstructorDeclaration(node)) return `${className(node)}.constructor`;
  if (ts.isMethodDeclaration(node) || ts.isGetAccessor(node) || ts.isSetAccessor(node))
    return `${className(node) ?? '(object)'}.${node.name.getText()}`;
  if (own) return own;
  const parent = node.parent;
  if (parent && ts.isVariableDeclaration(parent) && ts.isIdentifier(parent.name)) return parent.name.text;
  if (parent && ts.isPropertyAssignment(parent)) return `(property ${parent.name.getText()})`;
  const outer = enclosingFunction(node);
  return outer ? `${nameOf(outer)} → (arrow)` : '(anonymous)';
}

function className(node) {
  const cls = node.parent;
  return cls && (ts.isClassDeclaration(cls) || ts.isClassExpression(cls)) && cls.name ? cls.name.text : undefined;
}

function enclosingFunction(node) {
  for (let n = node.parent; n; n = n.parent) if (ts.isFunctionLike(n) && 'body' in n && n.body) return n;
  return undefined;
}
