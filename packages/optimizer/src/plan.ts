import { account, distributionReports } from './accounting.js';
import { ownerOfPath, readDistributions, removeOrphans, moduleNameOf, type OrphanRemoval } from './distributions.js';
import { normalizeDistName, type Profile } from './profile.js';
import type { OptimizeReport } from './report.js';
import { botocoreData } from './rules/aws-service-data.js';
import type { AwsServicesReport, RuleContext } from './rules/rule.js';
import { RULES, type RemovalRule, type RewriteRule } from './rules/rules.js';
import { isPackage, type TreeIndex } from './tree-index.js';
import { baseName, parentOf, type Layout } from './tree.js';

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

/** What the rules share while planning: the context every rule sees, and the marks they leave. */
interface PlanState {
  shared: Omit<RuleContext, 'remove' | 'rewrite'>;
  removed: Map<string, RemovalRule>;
  rewrites: Map<string, { rule: RewriteRule; content: Buffer }>;
  warnings: string[];
  orphansRemoved: OrphanRemoval[];
  distributionsNotPresent: string[];
}

function createState(input: PlanInput): PlanState & { distributions: ReturnType<typeof readDistributions> } {
  const { index, layout, profile } = input;
  const warnings: string[] = [];
  const distributions = readDistributions(index, layout, input.content);
  const { dists } = distributions;
  const removeSet = new Set(profile.remove.map(normalizeDistName));
  const orphansRemoved = profile.removeOrphans ? removeOrphans(dists, removeSet, warnings) : [];
  const presentNorms = new Set(dists.map((d) => d.norm));
  const removed = new Map<string, RemovalRule>();
  const services: AwsServicesReport = {
    botocore: index.dirs.has(botocoreData(layout)),
    kept: [],
    removedCount: 0,
    endpointPrefixes: [],
    credentialServicesLost: [],
  };
  const shared: PlanState['shared'] = {
    index,
    layout,
    profile,
    content: input.content,
    testImports: input.testImports,
    removedDists: dists.filter((d) => removeSet.has(d.norm)),
    keptDists: dists.filter((d) => !removeSet.has(d.norm)),
    topOwners: distributions.topOwners,
    removed,
    services,
    has: (p) => index.entries.has(p) || index.dirs.has(p),
    warn: (message) => void warnings.push(message),
  };
  const distributionsNotPresent = profile.remove.filter((r) => !presentNorms.has(normalizeDistName(r)));
  return { shared, removed, rewrites: new Map(), warnings, orphansRemoved, distributionsNotPresent, distributions };
}

/** The context one rule runs with: its removals and rewrites are credited to it. */
function contextFor(state: PlanState, rule: (typeof RULES)[number]): RuleContext {
  const { index } = state.shared;
  const mark = (path: string, name: RemovalRule): void => {
    if (state.removed.has(path) || !state.shared.has(path)) return;
    state.removed.set(path, name);
    for (const c of index.children.get(path) ?? []) mark(c, name);
  };
  const misuse = (what: string): never => {
    throw new Error(`internal error: the ${rule.kind} rule '${rule.name}' tried to ${what}`);
  };
  return {
    ...state.shared,
    remove: (path) => (rule.kind === 'remove' ? mark(path, rule.name) : misuse(`remove ${path}`)),
    rewrite: (path, content) =>
      rule.kind === 'rewrite' ? void state.rewrites.set(path, { rule: rule.name, content }) : misuse(`rewrite ${path}`),
  };
}

/** Top-level importable modules left in site-packages. */
function modulesLeft(index: TreeIndex, layout: Layout, removed: ReadonlyMap<string, unknown>): string[] {
  const modules = new Set<string>();
  for (const c of index.children.get(layout.sitePackages) ?? []) {
    if (removed.has(c) || c === layout.binDir) continue;
    const name = baseName(c);
    if (index.dirs.has(c)) {
      if (/^[A-Za-z_]\w*$/.test(name) && name !== '__pycache__' && isPackage(index, c, removed)) modules.add(name);
    } else if (/^[A-Za-z_]\w*\.pyc?$/.test(name) || /^[A-Za-z_]\w*(?:\.[\w-]+)?\.so$/.test(name)) {
      modules.add(moduleNameOf(name));
    }
  }
  return [...modules].sort();
}

/**
 * Compute the whole transform from the tree's entries and metadata, touching nothing: every rule of `RULES` in
 * turn, then the accounting of what they marked.
 * @throws {ProfileError} when a profile service is not in the tree's botocore/data
 */
export function planOptimization(input: PlanInput): Plan {
  const { index, layout } = input;
  const state = createState(input);
  for (const rule of RULES) rule.apply(contextFor(state, rule));
  const { removed, rewrites, distributions } = state;
  const ownerOf = (p: string): string =>
    ownerOfPath(p, layout.sitePackages, distributions.ownerByPath, distributions.topOwners);
  const totals = account(index, removed, rewrites, ownerOf);
  const removedKeys = new Set(state.shared.removedDists.map((d) => d.key));
  return {
    layout,
    removed,
    removeRoots: [...removed.keys()].filter((p) => !removed.has(parentOf(p))).sort(),
    rewrites,
    dirs: index.dirs,
    report: {
      dryRun: input.dryRun,
      layout,
      before: totals.before,
      after: totals.after,
      rules: totals.rules,
      distributions: distributionReports(distributions.dists, removedKeys, totals.perOwner),
      distributionsNotPresent: state.distributionsNotPresent,
      orphansRemoved: state.orphansRemoved,
      services: state.shared.services,
      modules: modulesLeft(index, layout, removed),
      warnings: state.warnings,
    },
  };
}
