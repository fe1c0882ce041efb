#!/usr/bin/env node
// pnpm check:cycles (in pnpm test) — no import cycle between files, and none between folders, type-only imports included (ESLint's
// import-x/no-cycle does not see those). Reads every .ts file under packages/*/src with TypeScript's own pre-parser
// (imports, `import type`, `export … from`, dynamic imports), resolves relative specifiers, and prints each cycle.
// Exit 1 when there is one.
import { readFileSync, readdirSync, statSync } from 'node:fs';
import { dirname, join, relative, resolve } from 'node:path';
import ts from 'typescript';

const root = resolve(import.meta.dirname, '..');
const packages = readdirSync(join(root, 'packages')).map((p) => join(root, 'packages', p, 'src'));

const files = packages.flatMap(list).filter((f) => f.endsWith('.ts') && !f.endsWith('.d.ts'));
const known = new Set(files);
const edges = new Map(files.map((file) => [file, importsOf(file)]));

const fileCycles = stronglyConnected(edges);
const folderEdges = new Map();
for (const [file, targets] of edges) {
  const from = dirname(file);
  if (!folderEdges.has(from)) folderEdges.set(from, new Set());
  for (const target of targets) if (dirname(target) !== from) folderEdges.get(from).add(dirname(target));
}
const folderCycles = stronglyConnected(new Map([...folderEdges].map(([k, v]) => [k, [...v]])));

const show = (kind, cycles) =>
  cycles.forEach((cycle, i) =>
    console.log(`${kind} cycle ${i + 1}: ${cycle.map((p) => relative(root, p) || '.').join(' ↔ ')}`),
  );
show('file', fileCycles);
show('folder', folderCycles);
const folders = new Set(files.map((f) => dirname(f))).size;
console.log(
  `${fileCycles.length} file cycles, ${folderCycles.length} folder cycles (type-only imports included; ${files.length} files in ${folders} folders)`,
);
process.exitCode = fileCycles.length || folderCycles.length ? 1 : 0;

function list(dir) {
  return readdirSync(dir).flatMap((name) => {
    const path = join(dir, name);
    return statSync(path).isDirectory() ? list(path) : [path];
  });
}

/** Files of this tree that `file` imports (relative specifiers only; `.js` names the `.ts` source). */
function importsOf(file) {
  const { importedFiles } = ts.preProcessFile(readFileSync(file, 'utf8'), true, true);
  return importedFiles
    .map((i) => i.fileName)
    .filter((s) => s.startsWith('.'))
    .map((s) => resolve(dirname(file), s).replace(/\.js$/, '.ts'))
    .map((p) => (known.has(p) ? p : known.has(join(p, 'index.ts')) ? join(p, 'index.ts') : undefined))
    .filter((p) => p !== undefined);
}

/** Tarjan's strongly connected components with more than one node (or a node importing itself). */
function stronglyConnected(graph) {
  let index = 0;
  const stack = [];
  const state = new Map();
  const found = [];
  const visit = (node) => {
    state.set(node, { index, low: index, onStack: true });
    index++;
    stack.push(node);
    for (const next of graph.get(node) ?? []) {
      if (!state.has(next)) {
        visit(next);
        state.get(node).low = Math.min(state.get(node).low, state.get(next).low);
      } else if (state.get(next).onStack) {
        state.get(node).low = Math.min(state.get(node).low, state.get(next).index);
      }
    }
    if (state.get(node).low !== state.get(node).index) return;
    const component = [];
    let member;
    do {
      member = stack.pop();
      state.get(member).onStack = false;
      component.push(member);
    } while (member !== node);
    if (component.length > 1 || (graph.get(node) ?? []).includes(node)) found.push(component.sort());
  };
  for (const node of graph.keys()) if (!state.has(node)) visit(node);
  return found;
}
