/** One `import` a Python source makes. */
export interface PythonImport {
  /** Absolute dotted module name (relative imports resolved against the file's package). */
  module: string;
  /** For `from M import a, b`: the names, each of which may be a submodule `M.a`. */
  names: string[];
  /** 1-based line of the statement. */
  line: number;
  /**
   * False for a statement that starts a line at column 0 (it runs when the module is imported); true for one
   * inside a block (a function, `try`, `if`, …), which may never run.
   */
  conditional: boolean;
}

/** The next comment or string start. String prefixes (r, b, f, …) stay as code: they do not change where a string ends. */
const NEXT = /[#'"]/g;
/** The rest of a string body after its opening quote, up to and including the closing quote (escapes skipped). */
const STRING_REST: Readonly<Record<string, RegExp>> = {
  "'": /[^'\\\n]*(?:\\[\s\S][^'\\\n]*)*(?:'|(?=\n)|$)/y,
  '"': /[^"\\\n]*(?:\\[\s\S][^"\\\n]*)*(?:"|(?=\n)|$)/y,
  "'''": /[^'\\]*(?:(?:\\[\s\S]|'(?!''))[^'\\]*)*(?:'''|$)/y,
  '"""': /[^"\\]*(?:(?:\\[\s\S]|"(?!""))[^"\\]*)*(?:"""|$)/y,
};

/**
 * The source with string literals and comments blanked (same length, newlines kept), so that only code remains.
 * Triple quotes and escapes are handled as Python's tokenizer does.
 */
export function codeOnly(source: string): string {
  const parts: string[] = [];
  let copied = 0;
  NEXT.lastIndex = 0;
  for (let m = NEXT.exec(source); m; m = NEXT.exec(source)) {
    const at = m.index;
    let end: number;
    if (m[0] === '#') {
      end = source.indexOf('\n', at);
      if (end < 0) end = source.length;
    } else {
      const quote = source.startsWith(m[0].repeat(3), at) ? m[0].repeat(3) : m[0];
      const rest = STRING_REST[quote] as RegExp;
      rest.lastIndex = at + quote.length;
      rest.exec(source);
      end = rest.lastIndex;
    }
    parts.push(source.slice(copied, at), source.slice(at, end).replace(/[^\n]/g, ' '));
    copied = NEXT.lastIndex = end;
  }
  parts.push(source.slice(copied));
  return parts.join('');
}

interface LogicalLine {
  text: string;
  /** 1-based number of its first physical line. */
  line: number;
  indent: number;
}

/**
 * Logical lines that mention `import`: physical lines joined inside brackets and after a backslash, with their first
 * line and indent. Only the lines that mention it are built as strings.
 */
function importLines(code: string): LogicalLine[] {
  const out: LogicalLine[] = [];
  let depth = 0;
  let start = 0;
  let line = 1;
  let startLine = 1;
  for (let i = 0; i <= code.length; i++) {
    const c = i < code.length ? code.charCodeAt(i) : 10;
    if (c === 40 || c === 91 || c === 123) depth++;
    else if (c === 41 || c === 93 || c === 125) depth--;
    else if (c === 10) {
      const continued =
        code.charCodeAt(i - 1) === 92 || (code.charCodeAt(i - 1) === 13 && code.charCodeAt(i - 2) === 92);
      if (i < code.length && (depth > 0 || continued)) {
        line++;
        continue;
      }
      const text = code.slice(start, i);
      if (text.includes('import')) {
        const indent = text.length - text.trimStart().length;
        out.push({ text: text.replace(/\\?\r?\n/g, ' '), line: startLine, indent });
      }
      depth = 0;
      start = i + 1;
      startLine = ++line;
    }
  }
  return out;
}

const IMPORT = /^import\s+(.+)$/;
const BLOCK_HEADER = /^(?:if|elif|else|try|except|finally|with|for|while|def|class|async)\b/;
/** An import statement at the start, or after a colon (the body of a one-line block). */
const IMPORT_AT = /(?:^|:)\s*((?:from\s+\.*[\w.]*\s+)?import\s.+)$/;
const FROM = /^from\s+(\.*)\s*([\w.]*)\s+import\s+(.+)$/;

function resolveRelative(dots: number, mod: string, packageName: string): string | undefined {
  if (dots === 0) return mod;
  const parts = packageName === '' ? [] : packageName.split('.');
  if (dots - 1 > parts.length) return undefined;
  return [...parts.slice(0, parts.length - (dots - 1)), ...(mod ? [mod] : [])].join('.');
}

const names = (list: string): string[] =>
  list
    .replace(/[()]/g, ' ')
    .split(',')
    .map((n) => n.trim().split(/\s+/)[0] ?? '')
    .filter((n) => /^[\w.]+$/.test(n));

/** The imports of one simple statement (already stripped of a leading compound-statement header). */
function statementImports(stmt: string, packageName: string): Omit<PythonImport, 'line' | 'conditional'>[] {
  const plain = IMPORT.exec(stmt);
  if (plain) return names(plain[1] ?? '').map((module) => ({ module, names: [] }));
  const from = FROM.exec(stmt);
  if (!from) return [];
  const module = resolveRelative((from[1] ?? '').length, from[2] ?? '', packageName);
  if (module === undefined || module === '') return [];
  const imported = (from[3] ?? '').trim() === '*' ? [] : names(from[3] ?? '');
  return [{ module, names: imported }];
}

/**
 * The `import` and `from … import` statements of a Python source (a static scan: `__import__` and importlib calls
 * are not seen). A statement at column 0 is unconditional; one in a block, or after `if …:` / `try:` on the same
 * line, is conditional.
 * @param packageName dotted name of the package the file is in ('' at top level), for relative imports
 */
export function scanImports(source: string, packageName: string): PythonImport[] {
  if (!source.includes('import')) return [];
  const found: PythonImport[] = [];
  for (const logical of importLines(codeOnly(source))) {
    // After `if x:` / `try:` … on the same line, the rest of the line is that block's body.
    let inBlock = logical.indent > 0;
    for (const part of logical.text.split(';')) {
      const stmt = part.trim();
      if (BLOCK_HEADER.test(stmt)) inBlock = true;
      const at = IMPORT_AT.exec(stmt);
      if (!at) continue;
      for (const imp of statementImports(at[1] ?? '', packageName)) {
        found.push({ ...imp, line: logical.line, conditional: inBlock });
      }
    }
  }
  return found;
}
