import { pruneEndpoints, readEndpointPrefix } from '../distributions/metadata.js';
import { joinPath } from '../tree/tree.js';
import { botocoreData } from './aws-service-data.js';
import { defineRule, type RuleContext } from './rule.js';

/** `metadata.endpointPrefix` from the newest API version of a service's model. */
function endpointPrefixOf(ctx: RuleContext, svcDir: string): string | undefined {
  const versions = (ctx.index.children.get(svcDir) ?? [])
    .filter((v) => ctx.index.dirs.has(v))
    .sort()
    .reverse();
  for (const v of versions) {
    for (const [file, gz] of [
      [`${v}/service-2.json`, false],
      [`${v}/service-2.json.gz`, true],
    ] as const) {
      const c = ctx.content.get(file);
      if (c) return readEndpointPrefix(c, gz, file);
    }
  }
  return undefined;
}

/** botocore/data/endpoints.json reduced to the endpoint prefixes of the kept services. */
export const awsEndpointsPrune = defineRule({
  name: 'aws-endpoints-prune',
  kind: 'rewrite',
  apply(ctx) {
    if (!ctx.services.botocore) return;
    const data = botocoreData(ctx.layout);
    const endpoints = joinPath(data, 'endpoints.json');
    const content = ctx.content.get(endpoints);
    if (!ctx.profile.aws.pruneEndpoints || !content) return;
    const prefixes = new Set<string>();
    for (const s of ctx.services.kept) {
      const prefix = endpointPrefixOf(ctx, joinPath(data, s));
      if (prefix === undefined) ctx.warn(`no endpointPrefix found for '${s}'; keeping its own name in endpoints.json`);
      prefixes.add(prefix ?? s);
    }
    ctx.services.endpointPrefixes = [...prefixes].sort();
    const pruned = pruneEndpoints(content, prefixes, endpoints);
    if (pruned) ctx.rewrite(endpoints, pruned);
  },
});
