import { account, distributionReports } from './accounting.js';
import {
  ownerOfPath,
  readDistributions,
  removeOrphans,
  moduleNameOf,
  type OrphanRemoval,
} from '../distributions/distributions.js';
import { normalizeDistName, type Profile } from '../profile/profile.js';
import type { OptimizeReport } from '../report/report.js';
import { botocoreData } from '../rules/aws-service-data.js';
import type { AwsServicesReport, RuleContext } from '../rules/rule.js';
import { RULES, type RemovalRule, type RewriteRule } from '../rules/rules.js';
import { protectedReason } from '../tree/protected-paths.js';
import { isPackage, type TreeIndex } from '../tree/tree-index.js';
import { baseName, parentOf, type Layout } from '../tree/tree.js';
import type { SkippedPath } from '../report/report.js';

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
  /** The size a kept entry will have when it is not its own (a hard link made a file: its target's size). */
  keptSize?: (
    path: string,
    removed: ReadonlyMap<string, RemovalRule>,
    rewrites: ReadonlyMap<string, unknown>,
  ) => number | undefined;
}

/** A complete, not yet applied, transform. */
export interface Plan {
  layout: Layout;
  /** Every removed path (files, symlinks and directories) and the rule that removed it. */
  removed: Map<string, RemovalRule>;
  /** The smallest set of paths whose recursive deletion removes exactly `removed`, sorted. */
  removeRoots: string[];
  /**
   * The dist-info directories of the removed distributions, in the order they go, after everything else: a run that
   * stops early leaves each distribution's dist-info (so a rerun still knows what to remove), orphans before the
   * distributions that required them (so a rerun still sees them as orphans).
   */
  distInfoOrder: string[];
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
  skipped: SkippedPath[];
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
  const skipped: SkippedPath[] = [];
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
    skip: (path, source, reason) => void skipped.push({ path, source, reason }),
  };
  const distributionsNotPresent = profile.remove.filter((r) => !presentNorms.has(normalizeDistName(r)));
  return {
    shared,
    removed,
    rewrites: new Map(),
    warnings,
    skipped,
    orphansRemoved,
    distributionsNotPresent,
    distributions,
  };
}

/** Dist-info directories of the removed distributions in the order they go: orphans last found first, then the rest. */
function distInfoOrder(state: PlanState): string[] {
  const { removedDists } = state.shared;
  const orphanKeys = state.orphansRemoved
    .map((o) => removedDists.find((d) => d.norm === normalizeDistName(o.name))?.key)
    .filter((k): k is string => k !== undefined)
    .reverse();
  const keys = [...orphanKeys, ...removedDists.map((d) => d.key).filter((k) => !orphanKeys.includes(k))];
  return keys.filter((k) => state.shared.index.dirs.has(k));
}

/** The context one rule runs with: its removals and rewrites are credited to it. */
function contextFor(state: PlanState, rule: (typeof RULES)[number]): RuleContext {
  const { index, layout } = state.shared;
  /** Mark a path and what is below it; a directory only when everything below it went. */
  const mark = (path: string, name: RemovalRule, keep?: (p: string) => string | undefined): boolean => {
    if (state.removed.has(path)) return true;
    if (!state.shared.has(path)) return false;
    const why = protectedReason(layout, path) ?? keep?.(path);
    if (why !== undefined) {
      state.shared.skip(path, name, why);
      return false;
    }
    let all = true;
    for (const c of index.children.get(path) ?? []) all = mark(c, name, keep) && all;
    if (all) state.removed.set(path, name);
    return all;
  };
  const misuse = (what: string): never => {
    throw new Error(`internal error: the ${rule.kind} rule '${rule.name}' tried to ${what}`);
  };
  return {
    ...state.shared,
    remove: (path, keep) => (rule.kind === 'remove' ? mark(path, rule.name, keep) : misuse(`remove ${path}`)),
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
  const keptSize = input.keptSize && ((p: string) => input.keptSize?.(p, removed, rewrites));
  const totals = account(index, removed, rewrites, ownerOf, keptSize);
  const removedKeys = new Set(state.shared.removedDists.map((d) => d.key));
  return {
    layout,
    removed,
    removeRoots: [...removed.keys()].filter((p) => !removed.has(parentOf(p))).sort(),
    distInfoOrder: distInfoOrder(state),
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
      skipped: state.skipped,
      hardLinksSplit: [],
      droppedMembers: [],
      warnings: state.warnings,
    },
  };
}
