import { ProfileError } from '../shared/errors.js';
import { CREDENTIAL_SERVICES, keptServices, serviceIssues } from '../profile/profile.js';
import { baseName, joinPath, type Layout } from '../tree/tree.js';
import { defineRule, type RuleContext } from './rule.js';

/** botocore's data directory in the tree. */
export function botocoreData(layout: Layout): string {
  return joinPath(layout.sitePackages, 'botocore/data');
}

function reportCredentialServices(ctx: RuleContext, present: readonly string[], wanted: ReadonlySet<string>): void {
  for (const s of wanted) {
    if (!present.includes(s)) ctx.warn(`credential service '${s}' is not in botocore/data of this tree`);
  }
  if (ctx.profile.aws.keepCredentialServices) return;
  for (const [service, impact] of Object.entries(CREDENTIAL_SERVICES).sort((a, b) => a[0].localeCompare(b[0]))) {
    if (present.includes(service) && !wanted.has(service)) {
      ctx.services.credentialServicesLost.push({ service, impact });
      ctx.warn(`removed credential service '${service}': ${impact}`);
    }
  }
}

/**
 * botocore/data service directories the profile does not keep.
 * @throws {ProfileError} when a profile service is not in the tree's botocore/data
 */
export const awsServiceData = defineRule({
  name: 'aws-service-data',
  kind: 'remove',
  apply(ctx) {
    if (!ctx.services.botocore) return;
    const data = botocoreData(ctx.layout);
    const present = (ctx.index.children.get(data) ?? [])
      .filter((p) => ctx.index.dirs.has(p))
      .map(baseName)
      .sort();
    const issues = serviceIssues(ctx.profile, present);
    if (issues.length > 0) throw new ProfileError(issues);
    const wanted = new Set(keptServices(ctx.profile));
    ctx.services.kept = present.filter((s) => wanted.has(s));
    reportCredentialServices(ctx, present, wanted);
    const keptSet = new Set(ctx.services.kept);
    for (const s of present) {
      if (keptSet.has(s)) continue;
      ctx.services.removedCount++;
      ctx.remove(joinPath(data, s));
    }
  },
});
