import { joinPath } from '../tree/tree.js';
import { botocoreData } from './aws-service-data.js';
import { defineRule } from './rule.js';

/** Documentation-only model files: examples-1.json of the kept services, boto3/examples. */
export const awsExamples = defineRule({
  name: 'aws-examples',
  kind: 'remove',
  apply(ctx) {
    if (!ctx.services.botocore || !ctx.profile.aws.dropExamples) return;
    for (const s of ctx.services.kept) {
      for (const v of ctx.index.children.get(joinPath(botocoreData(ctx.layout), s)) ?? []) {
        ctx.remove(`${v}/examples-1.json`);
      }
    }
    ctx.remove(joinPath(ctx.layout.sitePackages, 'boto3/examples'));
  },
});
