import { ProfileError } from './errors.js';
import {
  parseMetadata,
  parseRecord,
  parseScriptNames,
  pruneEndpoints,
  readEndpointPrefix,
  type RecordRow,
} from './metadata.js';
import { CREDENTIAL_SERVICES, keptServices, normalizeDistName, serviceIssues, type Profile } from './profile.js';
import { baseName, joinPath, parentOf, parseBytecodeName, type Layout, type TreeEntry } from './tree.js';

/** Rules that remove entries. */
export type RemovalRule =
  | 'remove-distribution'
  | 'aws-service-data'
  | 'aws-examples'
  | 'aws-resource-models'
  | 'strip-tests'
  | 'strip-docs'
  | 'stale-bytecode'
  | 'empty-directory';
/** Rules that rewrite a file smaller. */
export type RewriteRule = 'aws-endpoints-prune' | 'record-rewrite';
/** Every rule that appears in a report. */
export type RuleName = RemovalRule | RewriteRule;

export const RULE_NAMES: readonly RuleName[] = [
  'remove-distribution',
  'aws-service-data',
  'aws-examples',
  'aws-resource-models',
  'aws-endpoints-prune',
  'strip-tests',
  'strip-docs',
  'stale-bytecode',
  'empty-directory',
  'record-rewrite',
];

/** Bytes of regular files, and count of non-directory entries (files, symlinks, others). */
export interface Totals {
  bytes: number;
  files: number;
}

/** What one rule did: entries removed (bytes, files) or files rewritten (bytes saved, `rewritten`). */
export interface RuleStats extends Totals {
  rewritten: number;
}

/** One installed distribution, before and after. */
export interface DistributionReport {
  name: string;
  version: string;
  /** The dist-info directory, relative to the input root. */
  distInfo: string;
  action: 'kept' | 'removed';
  before: Totals;
  after: Totals;
  /** Bytes/files this distribution lost per rule (rewrites count saved bytes, no files). */
  removedByRule: Partial<Record<RuleName, Totals>>;
}

/** Result of a transform (or of a dry run): the same shape for directories and tar streams. */
export interface OptimizeReport {
  dryRun: boolean;
  layout: Layout;
  before: Totals;
  after: Totals;
  rules: Record<RuleName, RuleStats>;
  /** Sorted by name; files no RECORD claims are grouped under `(unowned)`. */
  distributions: DistributionReport[];
  /** Distributions the profile asked to remove that are not installed. */
  distributionsNotPresent: string[];
  /** Distributions removed because only removed distributions required them (`removeOrphans`). */
  orphansRemoved: { name: string; version: string; requiredBy: string[] }[];
  services: {
    /** Whether botocore/data exists in the tree (otherwise no AWS rule applied). */
    botocore: boolean;
    kept: string[];
    removedCount: number;
    /** Keys kept in endpoints.json, when it was pruned. */
    endpointPrefixes: string[];
    /** Credential-chain services removed because `aws.keepCredentialServices` is off, and what that breaks. */
    credentialServicesLost: { service: string; impact: string }[];
  };
  /** Top-level importable modules left in site-packages. */
  modules: string[];
  warnings: string[];
}

/** Tree lookups shared by the planner and its drivers. */
export interface TreeIndex {
  entries: ReadonlyMap<string, TreeEntry>;
  /** Every directory, explicit or implied by a deeper path (the root is ''). */
  dirs: ReadonlySet<string>;
  children: ReadonlyMap<string, string[]>;
}

/** Index a list of entries. */
export function indexTree(list: readonly TreeEntry[]): TreeIndex {
  const entries = new Map<string, TreeEntry>();
  const dirs = new Set<string>(['']);
  const children = new Map<string, string[]>();
  const addChild = (parent: string, child: string): void => {
    const c = children.get(parent);
    if (c) c.push(child);
    else children.set(parent, [child]);
  };
  const ensureDir = (dir: string): void => {
    while (!dirs.has(dir)) {
      dirs.add(dir);
      const parent = parentOf(dir);
      addChild(parent, dir);
      dir = parent;
    }
  };
  for (const e of list) {
    if (e.path === '' || entries.has(e.path)) continue;
    entries.set(e.path, e);
    if (e.type === 'directory') {
      ensureDir(e.path);
    } else {
      const parent = parentOf(e.path);
      ensureDir(parent);
      addChild(parent, e.path);
    }
  }
  return { entries, dirs, children };
}

/** `tests`/`test` directories that are Python packages: kept when other kept code imports them. */
export function testPackageCandidates(index: TreeIndex, layout: Layout): string[] {
  const out: string[] = [];
  for (const d of index.dirs) {
    if (!isWithin(d, layout.sitePackages) || d === layout.sitePackages) continue;
    const name = baseName(d);
    if ((name === 'tests' || name === 'test') && isPackage(index, d)) out.push(d);
  }
  return out.sort();
}

/** Input of {@link planOptimization}. */
export interface PlanInput {
  inputName: string;
  index: TreeIndex;
  layout: Layout;
  /** Contents of the files {@link isMetadataFile} selects. */
  content: ReadonlyMap<string, Buffer>;
  /** For .py files that import a test module: the dotted names imported. */
  testImports: ReadonlyMap<string, string[]>;
  profile: Profile;
  dryRun: boolean;
}

/** A complete, not yet applied, transform. */
export interface Plan {
  layout: Layout;
  /** Every removed path (files, symlinks and directories) and the rule that removed it. */
  removed: Map<string, RemovalRule>;
  /** The smallest set of paths whose recursive deletion removes exactly `removed`, sorted. */
  removeRoots: string[];
  rewrites: Map<string, { rule: RewriteRule; content: Buffer }>;
  /** Directories of the tree (explicit or implied). */
  dirs: ReadonlySet<string>;
  report: OptimizeReport;
}

/** An installed distribution as its dist-info describes it. */
export interface Dist {
  key: string;
  name: string;
  norm: string;
  version: string;
  rows: RecordRow[];
  /** Resolved RECORD paths (inside the tree) per row, undefined when outside it. */
  resolved: (string | undefined)[];
  topLevel: string[];
  scripts: string[];
  requires: string[];
  /** The installer marked it as asked for by name (a `REQUESTED` file in its dist-info). */
  requested: boolean;
}

/** Owner name of files no RECORD claims. */
export const UNOWNED = '(unowned)';

/** True when `path` is `dir` or below it. */
export function isWithin(path: string, dir: string): boolean {
  return dir === '' || path === dir || path.startsWith(dir + '/');
}

function resolveRelative(base: string, rel: string): string | undefined {
  // Fast path: almost every RECORD row is a plain relative path.
  if (!rel.startsWith('/') && !rel.includes('..') && !rel.includes('./') && !rel.includes('//')) {
    return base === '' ? rel : `${base}/${rel}`;
  }
  const parts = base === '' ? [] : base.split('/');
  for (const seg of rel.split('/')) {
    if (seg === '' || seg === '.') continue;
    if (seg === '..') {
      if (parts.length === 0) return undefined;
      parts.pop();
    } else parts.push(seg);
  }
  return parts.join('/');
}

function moduleNameOf(fileName: string): string {
  return fileName.split('.')[0] ?? fileName;
}

/**
 * Compute the whole transform from the tree's entries and metadata, touching nothing.
 * @throws {ProfileError} when a profile service is not in the tree's botocore/data
 */
export function planOptimization(input: PlanInput): Plan {
  const { index, layout, profile, content } = input;
  const sp = layout.sitePackages;
  const warnings: string[] = [];
  const removed = new Map<string, RemovalRule>();
  const rewrites = new Map<string, { rule: RewriteRule; content: Buffer }>();
  const has = (p: string): boolean => index.entries.has(p) || index.dirs.has(p);

  const markTree = (path: string, rule: RemovalRule): void => {
    if (removed.has(path) || !has(path)) return;
    removed.set(path, rule);
    for (const c of index.children.get(path) ?? []) markTree(c, rule);
  };

  const { dists, topOwners, ownerByPath } = readDistributions(index, layout, content);

  const removeSet = new Set(profile.remove.map(normalizeDistName));
  const orphansRemoved = profile.removeOrphans ? removeOrphans(dists, removeSet, warnings) : [];
  const removedDists = dists.filter((d) => removeSet.has(d.norm));
  const keptDists = dists.filter((d) => !removeSet.has(d.norm));
  const presentNorms = new Set(dists.map((d) => d.norm));
  const distributionsNotPresent = profile.remove.filter((r) => !presentNorms.has(normalizeDistName(r)));

  // --- remove-distribution
  const removedKeys = new Set(removedDists.map((d) => d.key));
  for (const d of removedDists) {
    markTree(d.key, 'remove-distribution');
    for (const p of d.resolved) if (p !== undefined && index.entries.has(p)) markTree(p, 'remove-distribution');
    for (const t of d.topLevel) {
      const owners = topOwners.get(t) ?? new Set();
      const shared = [...owners].some((o) => !removedKeys.has(o));
      if (shared) continue; // a namespace shared with a kept distribution: only its RECORD files went
      markTree(joinPath(sp, t), 'remove-distribution');
      markTree(joinPath(sp, `${t}.py`), 'remove-distribution');
    }
    if (layout.binDir) for (const s of d.scripts) markTree(joinPath(layout.binDir, s), 'remove-distribution');
  }
  for (const d of keptDists) {
    const lost = d.requires.filter((r) => removedDists.some((x) => x.norm === r));
    if (lost.length > 0) warnings.push(`${d.name} ${d.version} requires ${lost.join(', ')}, which the profile removes`);
  }

  // --- AWS: botocore/data services, examples, boto3 resource models, endpoints.json
  const botoData = joinPath(sp, 'botocore/data');
  const services = {
    botocore: index.dirs.has(botoData),
    kept: [] as string[],
    removedCount: 0,
    endpointPrefixes: [] as string[],
    credentialServicesLost: [] as { service: string; impact: string }[],
  };
  if (services.botocore) {
    const present = (index.children.get(botoData) ?? [])
      .filter((p) => index.dirs.has(p))
      .map(baseName)
      .sort();
    const issues = serviceIssues(profile, present);
    if (issues.length > 0) throw new ProfileError(issues);
    const wanted = new Set(keptServices(profile));
    services.kept = present.filter((s) => wanted.has(s));
    for (const s of wanted) {
      if (!present.includes(s)) warnings.push(`credential service '${s}' is not in botocore/data of this tree`);
    }
    if (!profile.aws.keepCredentialServices) {
      for (const [service, impact] of Object.entries(CREDENTIAL_SERVICES).sort((a, b) => a[0].localeCompare(b[0]))) {
        if (present.includes(service) && !wanted.has(service)) {
          services.credentialServicesLost.push({ service, impact });
          warnings.push(`removed credential service '${service}': ${impact}`);
        }
      }
    }
    const keptSet = new Set(services.kept);
    for (const s of present) {
      if (keptSet.has(s)) continue;
      services.removedCount++;
      markTree(joinPath(botoData, s), 'aws-service-data');
    }
    if (profile.aws.dropExamples) {
      for (const s of services.kept) {
        for (const v of index.children.get(joinPath(botoData, s)) ?? []) {
          markTree(`${v}/examples-1.json`, 'aws-examples');
        }
      }
      markTree(joinPath(sp, 'boto3/examples'), 'aws-examples');
    }
    const boto3Data = joinPath(sp, 'boto3/data');
    for (const svcDir of index.children.get(boto3Data) ?? []) {
      if (!index.dirs.has(svcDir)) continue;
      const s = baseName(svcDir);
      if (!keptSet.has(s)) {
        markTree(svcDir, 'aws-resource-models');
        continue;
      }
      // A resource model needs its API version in botocore/data (boto/boto3#843).
      for (const v of index.children.get(svcDir) ?? []) {
        if (!index.dirs.has(joinPath(botoData, s, baseName(v)))) markTree(v, 'aws-resource-models');
      }
    }
    const endpoints = joinPath(botoData, 'endpoints.json');
    const endpointsContent = content.get(endpoints);
    if (profile.aws.pruneEndpoints && endpointsContent) {
      const prefixes = new Set<string>();
      for (const s of services.kept) {
        const prefix = endpointPrefixOf(index, content, joinPath(botoData, s));
        if (prefix === undefined)
          warnings.push(`no endpointPrefix found for '${s}'; keeping its own name in endpoints.json`);
        prefixes.add(prefix ?? s);
      }
      services.endpointPrefixes = [...prefixes].sort();
      const pruned = pruneEndpoints(endpointsContent, prefixes);
      if (pruned) rewrites.set(endpoints, { rule: 'aws-endpoints-prune', content: pruned });
    }
  }

  // --- strip: tests and docs directories
  const candidates = new Set(testPackageCandidates(index, layout));
  const importedTests = new Map<string, string>(); // dotted name -> importer path
  for (const [file, names] of input.testImports)
    for (const n of names) if (!importedTests.has(n)) importedTests.set(n, file);
  const dotted = (dir: string): string => dir.slice(sp === '' ? 0 : sp.length + 1).replaceAll('/', '.');
  for (const d of [...index.dirs].sort()) {
    if (d === sp || !isWithin(d, sp) || removed.has(d) || d === layout.binDir) continue;
    if (d.slice(sp.length).includes('.dist-info')) continue;
    const name = baseName(d);
    if ((name === 'tests' || name === 'test') && profile.strip.tests) {
      if (candidates.has(d)) {
        const mod = dotted(d);
        const importer = [...importedTests].find(
          ([n, file]) => (n === mod || n.startsWith(mod + '.')) && !isWithin(file, d) && !removed.has(file),
        );
        if (importer) {
          warnings.push(`kept ${d}: the package ${mod} is imported by ${importer[1]}`);
          continue;
        }
      }
      markTree(d, 'strip-tests');
    } else if ((name === 'docs' || name === 'doc') && profile.strip.docs) {
      // botocore/docs and boto3/docs are imported at runtime: a Python package is never stripped.
      if (isPackage(index, d)) continue;
      markTree(d, 'strip-docs');
    }
  }

  // --- stale bytecode: source gone (or removed) or another interpreter's tag
  const tag = profile.pythonTag ?? layout.pythonTag;
  if (profile.strip.staleBytecode) {
    for (const [p, e] of index.entries) {
      if (e.type !== 'file' || removed.has(p) || !p.endsWith('.pyc')) continue;
      if (!isWithin(p, sp) && !(layout.binDir !== undefined && isWithin(p, layout.binDir))) continue;
      const dir = parentOf(p);
      if (baseName(dir) !== '__pycache__') continue; // a sourceless .pyc next to nothing is an importable module
      const parsed = parseBytecodeName(baseName(p));
      if (!parsed) continue;
      const source = joinPath(parentOf(dir), `${parsed.module}.py`);
      const sourceOk = index.entries.has(source) && !removed.has(source);
      if (!sourceOk || (tag !== undefined && parsed.tag !== tag)) markTree(p, 'stale-bytecode');
    }
  }

  // --- directories left empty by the removals above
  const protectedDirs = new Set<string>([sp, layout.binDir ?? '', layout.venvRoot ?? '']);
  for (let p = sp; p !== ''; p = parentOf(p)) protectedDirs.add(p);
  const depth = (p: string): number => {
    let n = 0;
    for (let i = p.indexOf('/'); i >= 0; i = p.indexOf('/', i + 1)) n++;
    return n;
  };
  const byDepth = [...index.dirs].map((d) => ({ d, n: depth(d) })).sort((a, b) => b.n - a.n);
  for (const { d } of byDepth) {
    if (removed.has(d) || protectedDirs.has(d)) continue;
    const kids = index.children.get(d) ?? [];
    if (kids.length > 0 && kids.every((k) => removed.has(k))) removed.set(d, 'empty-directory');
  }

  // --- RECORD of kept distributions lists only what is left
  for (const d of keptDists) {
    const record = `${d.key}/RECORD`;
    const original = content.get(record);
    if (!original) continue;
    const keptLines = d.rows.filter((_, i) => {
      const p = d.resolved[i];
      return p === undefined || !removed.has(p);
    });
    if (keptLines.length !== d.rows.length) {
      rewrites.set(record, {
        rule: 'record-rewrite',
        content: Buffer.from(keptLines.map((r) => r.line + '\n').join('')),
      });
    }
  }

  // --- accounting
  const ownerOf = (p: string): string => ownerOfPath(p, sp, ownerByPath, topOwners);
  const rules = Object.fromEntries(RULE_NAMES.map((r) => [r, { bytes: 0, files: 0, rewritten: 0 }])) as Record<
    RuleName,
    RuleStats
  >;
  const perDist = new Map<string, { before: Totals; after: Totals; byRule: Partial<Record<RuleName, Totals>> }>();
  const distStats = (key: string): { before: Totals; after: Totals; byRule: Partial<Record<RuleName, Totals>> } => {
    let s = perDist.get(key);
    if (!s) perDist.set(key, (s = { before: { bytes: 0, files: 0 }, after: { bytes: 0, files: 0 }, byRule: {} }));
    return s;
  };
  const before: Totals = { bytes: 0, files: 0 };
  const after: Totals = { bytes: 0, files: 0 };
  for (const [p, e] of index.entries) {
    if (e.type === 'directory') continue;
    const owner = distStats(ownerOf(p));
    before.bytes += e.size;
    before.files++;
    owner.before.bytes += e.size;
    owner.before.files++;
    const rule = removed.get(p);
    if (rule) {
      rules[rule].bytes += e.size;
      rules[rule].files++;
      const r = (owner.byRule[rule] ??= { bytes: 0, files: 0 });
      r.bytes += e.size;
      r.files++;
      continue;
    }
    let size = e.size;
    const rw = rewrites.get(p);
    if (rw) {
      size = rw.content.length;
      rules[rw.rule].bytes += e.size - size;
      rules[rw.rule].rewritten++;
      const r = (owner.byRule[rw.rule] ??= { bytes: 0, files: 0 });
      r.bytes += e.size - size;
    }
    after.bytes += size;
    after.files++;
    owner.after.bytes += size;
    owner.after.files++;
  }
  const distributions: DistributionReport[] = dists.map((d) => {
    const s = distStats(d.key);
    return {
      name: d.name,
      version: d.version,
      distInfo: d.key,
      action: removedKeys.has(d.key) ? 'removed' : 'kept',
      before: s.before,
      after: s.after,
      removedByRule: s.byRule,
    };
  });
  const unowned = perDist.get(UNOWNED);
  if (unowned) {
    distributions.push({
      name: UNOWNED,
      version: '',
      distInfo: '',
      action: 'kept',
      before: unowned.before,
      after: unowned.after,
      removedByRule: unowned.byRule,
    });
  }

  // --- modules left
  const modules = new Set<string>();
  for (const c of index.children.get(sp) ?? []) {
    if (removed.has(c) || c === layout.binDir) continue;
    const name = baseName(c);
    if (index.dirs.has(c)) {
      if (/^[A-Za-z_]\w*$/.test(name) && name !== '__pycache__' && isPackage(index, c, removed)) {
        modules.add(name);
      }
    } else if (/^[A-Za-z_]\w*\.pyc?$/.test(name) || /^[A-Za-z_]\w*(?:\.[\w-]+)?\.so$/.test(name)) {
      modules.add(moduleNameOf(name));
    }
  }

  const removeRoots = [...removed.keys()].filter((p) => !removed.has(parentOf(p))).sort();
  return {
    layout,
    removed,
    removeRoots,
    rewrites,
    dirs: index.dirs,
    report: {
      dryRun: input.dryRun,
      layout,
      before,
      after,
      rules,
      distributions,
      distributionsNotPresent,
      orphansRemoved,
      services,
      modules: [...modules].sort(),
      warnings,
    },
  };
}

/**
 * Adds to `removeSet` (in place) every distribution that nothing kept requires any more and that was not asked for
 * by name, until no more go. Without any REQUESTED marker in the tree the roots are unknown, so nothing is removed.
 */
function removeOrphans(
  dists: readonly Dist[],
  removeSet: Set<string>,
  warnings: string[],
): OptimizeReport['orphansRemoved'] {
  const orphans: OptimizeReport['orphansRemoved'] = [];
  if (!dists.some((d) => d.requested)) {
    const candidates = dists.filter(
      (d) => !removeSet.has(d.norm) && dists.some((x) => removeSet.has(x.norm) && x.requires.includes(d.norm)),
    );
    if (candidates.length > 0) {
      warnings.push(
        `no REQUESTED markers in this tree: kept ${candidates.map((d) => d.name).join(', ')}, which only removed distributions may need`,
      );
    }
    return orphans;
  }
  for (let changed = true; changed;) {
    changed = false;
    for (const d of dists) {
      if (removeSet.has(d.norm) || d.requested) continue;
      const dependents = dists.filter((x) => x !== d && x.requires.includes(d.norm));
      if (dependents.length === 0 || dependents.some((x) => !removeSet.has(x.norm))) continue;
      removeSet.add(d.norm);
      orphans.push({ name: d.name, version: d.version, requiredBy: dependents.map((x) => x.name).sort() });
      changed = true;
    }
  }
  return orphans;
}

/** Distributions of a tree (from their dist-info), with owners per RECORD path and per top-level name. */
export function readDistributions(
  index: TreeIndex,
  layout: Layout,
  content: ReadonlyMap<string, Buffer>,
): { dists: Dist[]; ownerByPath: Map<string, string>; topOwners: Map<string, Set<string>> } {
  const sp = layout.sitePackages;
  const text = (p: string): string | undefined => content.get(p)?.toString('utf8');
  const dists: Dist[] = [];
  for (const d of index.children.get(sp) ?? []) {
    if (!d.endsWith('.dist-info') || !index.dirs.has(d)) continue;
    const meta = parseMetadata(text(`${d}/METADATA`) ?? '');
    const stem = baseName(d).slice(0, -'.dist-info'.length);
    const dash = stem.indexOf('-');
    const name = meta.name ?? (dash < 0 ? stem : stem.slice(0, dash));
    const rows = parseRecord(text(`${d}/RECORD`) ?? '');
    const resolved = rows.map((r) => {
      const p = resolveRelative(sp, r.path);
      if (p !== undefined && isWithin(p, sp)) return p;
      // Scripts: RECORD says ../../../bin/x (venv) or ../../bin/x (pip --target); map to our bin dir.
      if (layout.binDir && /(?:^|\/)bin\/[^/]+$/.test(r.path)) return joinPath(layout.binDir, baseName(r.path));
      return p;
    });
    const topText = text(`${d}/top_level.txt`);
    const topLevel = topText
      ? topText
          .split(/\r?\n/)
          .map((l) => l.trim())
          .filter((l) => l !== '' && !l.includes('/'))
      : [
          ...new Set(
            rows
              .map((r) => r.path.split('/')[0] ?? '')
              .filter(
                (s) =>
                  s !== '' && s !== '..' && !s.endsWith('.dist-info') && s !== '__pycache__' && !s.endsWith('.pth'),
              )
              .map(moduleNameOf),
          ),
        ];
    dists.push({
      key: d,
      name,
      norm: normalizeDistName(name),
      version: meta.version ?? (dash < 0 ? '' : stem.slice(dash + 1)),
      rows,
      resolved,
      topLevel,
      scripts: parseScriptNames(text(`${d}/entry_points.txt`) ?? ''),
      requires: meta.requires,
      requested: index.entries.has(`${d}/REQUESTED`),
    });
  }
  dists.sort((a, b) => a.norm.localeCompare(b.norm) || a.key.localeCompare(b.key));

  // Owner of every path a RECORD lists, and owners of each top-level name.
  const ownerByPath = new Map<string, string>();
  const topOwners = new Map<string, Set<string>>();
  for (const d of dists) {
    d.resolved.forEach((p) => {
      if (p !== undefined && !ownerByPath.has(p)) ownerByPath.set(p, d.key);
      if (p !== undefined && isWithin(p, sp) && p !== sp) {
        const top = moduleNameOf(p.slice(sp === '' ? 0 : sp.length + 1).split('/')[0] ?? '');
        if (top !== '__pycache__') addOwner(topOwners, top, d.key);
      }
    });
    for (const t of d.topLevel) addOwner(topOwners, t, d.key);
  }

  return { dists, ownerByPath, topOwners };
}

/** The dist-info (key) that owns a path, or {@link UNOWNED}. */
export function ownerOfPath(
  p: string,
  sp: string,
  ownerByPath: ReadonlyMap<string, string>,
  topOwners: ReadonlyMap<string, Set<string>>,
): string {
  const direct = ownerByPath.get(p);
  if (direct) return direct;
  if (!isWithin(p, sp) || p === sp) return UNOWNED;
  const first = p.slice(sp === '' ? 0 : sp.length + 1).split('/');
  const seg = first[0] ?? '';
  if (seg.endsWith('.dist-info')) return joinPath(sp, seg);
  let top = moduleNameOf(seg);
  if (seg === '__pycache__' && first[1]) top = moduleNameOf(first[1]);
  const owners = topOwners.get(top);
  return owners && owners.size === 1 ? ([...owners][0] ?? UNOWNED) : UNOWNED;
}

/** A regular package: `__init__.py`, or `__init__.pyc` when shipped sourceless (compileall -b). */
function isPackage(index: TreeIndex, dir: string, removed?: ReadonlyMap<string, unknown>): boolean {
  return [`${dir}/__init__.py`, `${dir}/__init__.pyc`].some((p) => index.entries.has(p) && !removed?.has(p));
}

function addOwner(map: Map<string, Set<string>>, top: string, key: string): void {
  const s = map.get(top);
  if (s) s.add(key);
  else map.set(top, new Set([key]));
}

function endpointPrefixOf(index: TreeIndex, content: ReadonlyMap<string, Buffer>, svcDir: string): string | undefined {
  const versions = (index.children.get(svcDir) ?? [])
    .filter((v) => index.dirs.has(v))
    .sort()
    .reverse();
  for (const v of versions) {
    for (const [file, gz] of [
      [`${v}/service-2.json`, false],
      [`${v}/service-2.json.gz`, true],
    ] as const) {
      const c = content.get(file);
      if (c) return readEndpointPrefix(c, gz);
    }
  }
  return undefined;
}
