import { z } from 'zod';
import { BUILTIN_AWS_SERVICES } from './aws-services.js';
import { closureSchema } from './closure-options.js';
import { ProfileError, type ProfileIssue } from '../shared/errors.js';

/** Services the seed worker keeps. */
export const DEFAULT_AWS_SERVICES = ['ecs', 'secretsmanager', 'sts', 'logs', 'sqs'] as const;

/**
 * Services the botocore credential chain creates clients for without the caller asking:
 * legacy SSO profiles (`sso`), `sso_session` token refresh (`sso-oidc`) and `aws login` profiles (`signin`).
 * `sts` (AssumeRole, web identity) is in the default list already.
 */
export const CREDENTIAL_SERVICES: Readonly<Record<string, string>> = {
  sso: 'legacy SSO profiles (sso_start_url / sso_account_id) cannot fetch role credentials (GetRoleCredentials)',
  'sso-oidc': 'sso_session profiles cannot refresh their SSO token (CreateToken)',
  signin: '`aws login` (login_session) profiles cannot refresh their credentials (CreateOAuth2Token)',
};

/** Distributions removed by default. */
export const DEFAULT_REMOVE = ['pip', 'setuptools', 'wheel', 'pygments'] as const;

const serviceName = z
  .string()
  .regex(/^[a-z0-9][a-z0-9-]*$/, 'must be a botocore service name (lower case letters, digits and dashes)');

/** The profile's schema (`parseProfile` validates with it and reports every issue at once). */
export const profileSchema = z
  .object({
    aws: z
      .object({
        /** botocore service names to keep (directories of botocore/data). */
        services: z
          .array(serviceName)
          .min(1)
          .default([...DEFAULT_AWS_SERVICES]),
        /** Keep sso, sso-oidc and signin, which the credential chain needs for SSO / `aws login` profiles. */
        keepCredentialServices: z.boolean().default(true),
        /** Prune botocore/data/endpoints.json to the kept services' endpoint prefixes. */
        pruneEndpoints: z.boolean().default(true),
        /** Drop documentation-only model files (examples-1.json, boto3/examples). */
        dropExamples: z.boolean().default(true),
      })
      .strict()
      .prefault({}),
    /** Distributions to remove entirely: packages, dist-info, console scripts, .pth hooks. */
    remove: z
      .array(z.string().regex(/^[A-Za-z0-9][A-Za-z0-9._-]*$/, 'must be a distribution name'))
      .default([...DEFAULT_REMOVE]),
    /**
     * Also remove distributions that only removed ones required (e.g. `packaging`, pulled in by `wheel`). Never one
     * that was asked for by name: installers mark those with a REQUESTED file; without such markers nothing goes.
     */
    removeOrphans: z.boolean().default(true),
    strip: z
      .object({
        /** Remove `tests` / `test` directories (a test package that kept code imports is kept). */
        tests: z.boolean().default(true),
        /** Remove `docs` / `doc` directories that are not Python packages. */
        docs: z.boolean().default(true),
        /** Remove bytecode whose source is gone or that belongs to another interpreter. */
        staleBytecode: z.boolean().default(true),
      })
      .strict()
      .prefault({}),
    /**
     * The minimal runtime: cut the root filesystem down to what this environment's interpreter can load (see
     * `closureTar`). Absent: the environment goes onto the full base image.
     */
    closure: closureSchema.optional(),
    /** Interpreter tag of the target (`cpython-311`); inferred from the tree when absent. */
    pythonTag: z
      .string()
      .regex(/^[a-z]+-\d+$/, 'must look like cpython-311')
      .optional(),
  })
  .strict();

/** A validated optimizer profile with defaults applied. */
export type Profile = z.output<typeof profileSchema>;
/** What a user may write: every field optional. */
export type ProfileInput = z.input<typeof profileSchema>;

/** Options of {@link parseProfile}. */
export interface ParseProfileOptions {
  /** Service names considered valid; defaults to the botocore release this package was built against. */
  knownServices?: readonly string[];
}

/**
 * Validate a profile and apply defaults; every problem is reported at once.
 * @throws {ProfileError} with one issue per problem (unknown services name close matches).
 */
export function parseProfile(input: unknown, opts: ParseProfileOptions = {}): Profile {
  const result = profileSchema.safeParse(input ?? {});
  if (!result.success) {
    throw new ProfileError(
      result.error.issues.map((i) => ({ path: i.path.map(String).join('.'), message: i.message })),
      { cause: result.error },
    );
  }
  const issues = serviceIssues(result.data, opts.knownServices ?? BUILTIN_AWS_SERVICES);
  if (issues.length > 0) throw new ProfileError(issues);
  return result.data;
}

/** The default profile: the seed worker's (5 services + credential services, pip/setuptools/wheel/pygments removed). */
export const defaultProfile: Profile = parseProfile({});

/** Issues for every service of the profile not in `known`, each with close matches. */
export function serviceIssues(profile: Profile, known: readonly string[]): ProfileIssue[] {
  const knownSet = new Set(known);
  const issues: ProfileIssue[] = [];
  profile.aws.services.forEach((name, index) => {
    if (knownSet.has(name)) return;
    const close = closeMatches(name, known);
    issues.push({
      path: `aws.services.${index}`,
      message:
        `unknown AWS service '${name}'` +
        (close.length > 0 ? `; did you mean ${close.map((c) => `'${c}'`).join(', ')}?` : ''),
    });
  });
  return issues;
}

/** The services a profile keeps: its own plus the credential-chain services when enabled, sorted, unique. */
export function keptServices(profile: Profile): string[] {
  const kept = new Set(profile.aws.services);
  if (profile.aws.keepCredentialServices) for (const s of Object.keys(CREDENTIAL_SERVICES)) kept.add(s);
  return [...kept].sort();
}

/** PEP 503 normalized distribution name. */
export function normalizeDistName(name: string): string {
  return name.toLowerCase().replace(/[-_.]+/g, '-');
}

/** Up to three candidates closest to `name` (Levenshtein), best first. */
export function closeMatches(name: string, candidates: readonly string[]): string[] {
  const max = Math.max(2, Math.floor(name.length / 3));
  return candidates
    .map((c) => ({ c, d: levenshtein(name, c) }))
    .filter((x) => x.d <= max)
    .sort((a, b) => a.d - b.d || a.c.localeCompare(b.c))
    .slice(0, 3)
    .map((x) => x.c);
}

function levenshtein(a: string, b: string): number {
  let prev = Array.from({ length: b.length + 1 }, (_, i) => i);
  for (let i = 1; i <= a.length; i++) {
    const cur = [i];
    for (let j = 1; j <= b.length; j++) {
      const cost = a[i - 1] === b[j - 1] ? 0 : 1;
      cur[j] = Math.min((prev[j] ?? 0) + 1, (cur[j - 1] ?? 0) + 1, (prev[j - 1] ?? 0) + cost);
    }
    prev = cur;
  }
  return prev[b.length] ?? 0;
}
