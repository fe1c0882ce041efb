import { MetadataError } from '../shared/errors.js';
import { LIMITS, gunzipBounded } from '../shared/limits.js';

/** Files whose content the planner reads. Layout-independent, so a tar reader can decide while streaming. */
export function isMetadataFile(path: string, wantedServices: ReadonlySet<string>): boolean {
  if (/\.dist-info\/(?:RECORD|METADATA|top_level\.txt|entry_points\.txt)$/.test(path)) return true;
  if (/(?:^|\/)botocore\/data\/endpoints\.json$/.test(path)) return true;
  const m = /(?:^|\/)botocore\/data\/([^/]+)\/[^/]+\/service-2\.json(?:\.gz)?$/.exec(path);
  return m !== null && wantedServices.has(m[1] ?? '');
}

/** One RECORD row: the path as written, and the raw line (kept verbatim when the path survives). */
export interface RecordRow {
  path: string;
  line: string;
}

/** Parse a dist-info RECORD (CSV: path,hash,size; paths with commas are quoted). */
export function parseRecord(text: string): RecordRow[] {
  const rows: RecordRow[] = [];
  for (const line of text.split(/\r?\n/)) {
    if (line === '') continue;
    let path: string;
    if (line.startsWith('"')) {
      let i = 1;
      path = '';
      while (i < line.length) {
        const ch = line[i];
        if (ch === '"') {
          if (line[i + 1] === '"') {
            path += '"';
            i += 2;
            continue;
          }
          break;
        }
        path += ch;
        i++;
      }
    } else {
      const comma = line.indexOf(',');
      path = comma < 0 ? line : line.slice(0, comma);
    }
    rows.push({ path, line });
  }
  return rows;
}

/** Fields of a METADATA file that matter here. */
export interface CoreMetadata {
  name?: string;
  version?: string;
  /** Names of unconditional requirements (no `extra ==` marker), normalized. */
  requires: string[];
}

/** Parse the RFC 822 header block of METADATA. */
export function parseMetadata(text: string): CoreMetadata {
  const head = text.split(/\r?\n\r?\n/, 1)[0] ?? '';
  const meta: CoreMetadata = { requires: [] };
  for (const line of head.split(/\r?\n/)) {
    const m = /^([A-Za-z-]+):\s*(.*)$/.exec(line);
    if (!m) continue;
    const key = (m[1] ?? '').toLowerCase();
    const value = m[2] ?? '';
    if (key === 'name') meta.name = value.trim();
    else if (key === 'version') meta.version = value.trim();
    else if (key === 'requires-dist' && !/extra\s*==/.test(value)) {
      const name = /^([A-Za-z0-9][A-Za-z0-9._-]*)/.exec(value.trim());
      if (name?.[1]) meta.requires.push(name[1].toLowerCase().replace(/[-_.]+/g, '-'));
    }
  }
  return meta;
}

/** Console and GUI script names declared in entry_points.txt. */
export function parseScriptNames(text: string): string[] {
  const names: string[] = [];
  let section = '';
  for (const raw of text.split(/\r?\n/)) {
    const line = raw.trim();
    const sec = /^\[(.+)\]$/.exec(line);
    if (sec) section = sec[1] ?? '';
    else if ((section === 'console_scripts' || section === 'gui_scripts') && line.includes('=')) {
      names.push(line.slice(0, line.indexOf('=')).trim());
    }
  }
  return names;
}

const ENDPOINT_PREFIX = /"metadata"\s*:\s*\{[^{}]*?"endpointPrefix"\s*:\s*"([^"]+)"/;

/**
 * `metadata.endpointPrefix` of a service-2 model (plain or gzipped JSON), found by a pattern in the text: the
 * metadata block comes first, and a model is never parsed whole (a hostile one could be a bomb). Undefined when the
 * text has no such block.
 * @param path the model file, as messages name it
 * @throws {SizeLimitError} when it decompresses to more than {@link LIMITS.modelBytes}
 * @throws {MetadataError} when it is not gzip data
 */
export function readEndpointPrefix(content: Buffer, gz: boolean, path: string): string | undefined {
  const head = gz
    ? gunzipBounded(content.subarray(0, 8192), path, LIMITS.modelBytes, true)
    : content.subarray(0, 65536);
  const quick = ENDPOINT_PREFIX.exec(head.toString('utf8'));
  if (quick) return quick[1];
  const text = (gz ? gunzipBounded(content, path, LIMITS.modelBytes) : content).toString('utf8');
  return ENDPOINT_PREFIX.exec(text)?.[1];
}

interface EndpointsFile {
  partitions?: { services?: Record<string, unknown> }[];
}

function parseEndpoints(content: Buffer, path: string): EndpointsFile {
  let data: unknown;
  try {
    data = JSON.parse(content.toString('utf8'));
  } catch (err) {
    throw new MetadataError(path, `not valid JSON (${(err as Error).message})`, FIX_ENDPOINTS, { cause: err });
  }
  const partitions = (data as EndpointsFile | null)?.partitions;
  if (typeof data !== 'object' || data === null || (partitions !== undefined && !Array.isArray(partitions))) {
    throw new MetadataError(path, 'not an endpoints file (no partitions list)', FIX_ENDPOINTS);
  }
  return data as EndpointsFile;
}

const FIX_ENDPOINTS = 'reinstall botocore, or keep the file whole (--no-prune-endpoints, aws.pruneEndpoints: false)';

/**
 * Keep only the `services` entries of botocore's endpoints.json whose key is one of `prefixes`.
 * Returns undefined when nothing would change.
 * @param path the file, as messages name it
 * @throws {MetadataError} when it is not an endpoints file
 */
export function pruneEndpoints(content: Buffer, prefixes: ReadonlySet<string>, path: string): Buffer | undefined {
  const data = parseEndpoints(content, path);
  let changed = false;
  for (const partition of data.partitions ?? []) {
    if (typeof partition !== 'object' || partition === null || typeof partition.services !== 'object') continue;
    if (partition.services === null) continue;
    const kept: Record<string, unknown> = {};
    for (const [key, value] of Object.entries(partition.services)) {
      if (prefixes.has(key)) kept[key] = value;
      else changed = true;
    }
    partition.services = kept;
  }
  return changed ? Buffer.from(JSON.stringify(data) + '\n') : undefined;
}

const TEST_SEGMENT = /(?:^|\.)(?:tests?)(?:\.|$)/;

/**
 * Absolute dotted names of `test`/`tests` modules a Python source imports.
 * @param packageName dotted name of the package the source file is in ('' at top level), to resolve relative imports
 */
export function testImports(source: string, packageName: string): string[] {
  const found = new Set<string>();
  const resolve = (dots: number, mod: string): string | undefined => {
    if (dots === 0) return mod;
    const parts = packageName === '' ? [] : packageName.split('.');
    if (dots - 1 > parts.length) return undefined;
    return [...parts.slice(0, parts.length - (dots - 1)), ...(mod ? [mod] : [])].join('.');
  };
  // Only lines that mention "test" can import a test module; look at those lines alone.
  const re = /^[ \t]*(?:from[ \t]+(\.*)([\w.]*)[ \t]+import[ \t]+\(?([^\n#]*)|import[ \t]+([^\n#]*))/;
  const seen = new Set<number>();
  for (let at = source.indexOf('test'); at >= 0; at = source.indexOf('test', at + 4)) {
    const start = source.lastIndexOf('\n', at) + 1;
    if (seen.has(start)) continue;
    seen.add(start);
    const end = source.indexOf('\n', at);
    const m = re.exec(source.slice(start, end < 0 ? undefined : end));
    if (!m) continue;
    if (m[4] !== undefined) {
      for (const part of m[4].split(',')) {
        const name = part.trim().split(/\s+/)[0] ?? '';
        if (TEST_SEGMENT.test(name)) found.add(name);
      }
      continue;
    }
    const base = resolve((m[1] ?? '').length, m[2] ?? '');
    if (base === undefined) continue;
    if (TEST_SEGMENT.test(base)) found.add(base);
    for (const part of (m[3] ?? '').split(',')) {
      const name = part.trim().replace(/\)$/, '').split(/\s+/)[0] ?? '';
      if (/^tests?$/.test(name)) found.add(base ? `${base}.${name}` : name);
    }
  }
  return [...found];
}
