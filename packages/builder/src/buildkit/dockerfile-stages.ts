/**
 * Which Dockerfile stages a registry build cache must cover. BuildKit's inline cache (the only cache export through
 * `POST /build`) records the layers of the image it is written into: a stage that the target only copies from is not
 * in it, so a change before the `COPY --from` rebuilds that whole stage. Building each such stage as its own target,
 * with its own inline cache image (`<cache>:<stage>`), keeps every stage cacheable.
 */

/** The named stages `target` depends on (through `FROM <stage>`, `COPY --from=<stage>`, `--mount=from=<stage>`), in
 * Dockerfile order, without `target` itself; no target: the last stage's. Unknown targets give no stages. */
export function dependencyStages(dockerfile: string, target?: string): string[] {
  const stages = parseStages(dockerfile);
  target ??= [...stages.keys()].at(-1) ?? '';
  const needed = new Set<string>();
  const visit = (name: string): void => {
    for (const dep of stages.get(name) ?? []) {
      if (!stages.has(dep) || needed.has(dep)) continue;
      needed.add(dep);
      visit(dep);
    }
  };
  visit(target.toLowerCase());
  return [...stages.keys()].filter((name) => needed.has(name) && name !== target);
}

/** Cache refs: `<repository>:<stage>` for each repository and stage. */
export function cacheRefs(repositories: readonly string[], stages: readonly string[]): string[] {
  return repositories.flatMap((repository) => stages.map((stage) => `${repository}:${stage}`));
}

/**
 * Whether the stage a build produces (the `target`, else the last) starts `FROM scratch`, directly or through the
 * stages it is built on (`FROM builder AS final` where `builder` is `FROM scratch`). Such an image has no base image
 * of its own: whatever of a distribution it holds, it was copied in, so the gate checks by default that scanners can
 * still see it (structure check `scannerVisible`). An `ARG` in a FROM line counts as not scratch.
 */
export function targetFromScratch(dockerfile: string, target?: string): boolean {
  const stages = parseStages(dockerfile);
  let name = (target ?? [...stages.keys()].at(-1) ?? '').toLowerCase();
  for (let hops = 0; hops <= stages.size; hops++) {
    const base = stages.get(name)?.[0]?.toLowerCase();
    if (base === 'scratch') return true;
    if (base === undefined) return false;
    name = base;
  }
  return false;
}

/** Stage name → the names it refers to (base image or stage names alike; callers keep the stages). */
function parseStages(dockerfile: string): Map<string, string[]> {
  const stages = new Map<string, string[]>();
  let current: string[] | undefined;
  for (const line of dockerfile.replace(/\\\r?\n/g, ' ').split(/\r?\n/)) {
    const from = /^\s*FROM\s+(?:--\S+\s+)*(\S+)(?:\s+AS\s+(\S+))?/i.exec(line);
    if (from) {
      current = [from[1] ?? ''];
      stages.set((from[2] ?? `#${stages.size}`).toLowerCase(), current);
      continue;
    }
    for (const ref of line.matchAll(/--(?:from|mount=[^\s]*from)=([^\s,]+)/gi))
      current?.push((ref[1] ?? '').toLowerCase());
  }
  return stages;
}
