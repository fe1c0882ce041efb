import { isPackage } from '../tree/tree-index.js';
import { defineRule } from './rule.js';
import { siteDirsNamed } from './site-dirs-named.js';

/** `docs` / `doc` directories that are not Python packages (botocore/docs and boto3/docs are imported at run time). */
export const stripDocs = defineRule({
  name: 'strip-docs',
  kind: 'remove',
  apply(ctx) {
    if (!ctx.profile.strip.docs) return;
    for (const d of siteDirsNamed(ctx, ['docs', 'doc'])) {
      if (!ctx.removed.has(d) && !isPackage(ctx.index, d)) ctx.remove(d);
    }
  },
});
