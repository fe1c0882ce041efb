import { baseName, joinPath } from '../tree/tree.js';
import { botocoreData } from './aws-service-data.js';
import { defineRule } from './rule.js';

/** boto3/data resource models of removed services, and of API versions botocore/data no longer has. */
export const awsResourceModels = defineRule({
  name: 'aws-resource-models',
  kind: 'remove',
  apply(ctx) {
    if (!ctx.services.botocore) return;
    const { index } = ctx;
    const kept = new Set(ctx.services.kept);
    for (const svcDir of index.children.get(joinPath(ctx.layout.sitePackages, 'boto3/data')) ?? []) {
      if (!index.dirs.has(svcDir)) continue;
      const s = baseName(svcDir);
      if (!kept.has(s)) {
        ctx.remove(svcDir);
        continue;
      }
      // A resource model needs its API version in botocore/data (boto/boto3#843).
      for (const v of index.children.get(svcDir) ?? []) {
        if (!index.dirs.has(joinPath(botocoreData(ctx.layout), s, baseName(v)))) ctx.remove(v);
      }
    }
  },
});
