import { BUILTIN_AWS_SERVICES } from '../profile/aws-services.js';
import { keptServices, type Profile } from '../profile/profile.js';

/** A source file to scan. */
export interface SourceFile {
  path: string;
  content: string;
}

/** One AWS service a source file asks boto3/botocore for. */
export interface ServiceCall {
  service: string;
  file: string;
  /** 1-based line of the service name. */
  line: number;
}

/** A call to a service the profile trims away. */
export interface ServiceViolation extends ServiceCall {
  message: string;
}

// `.client("sqs")`, `.resource('s3')`, `.create_client("ecs")`, also with `service_name=` anywhere in the arguments.
const POSITIONAL = /\b(?:client|resource|create_client)\s*\(\s*(?:service_name\s*=\s*)?(['"])([a-z0-9-]+)\1/g;
const KEYWORD = /\b(?:client|resource|create_client)\s*\(([^()]*?)\bservice_name\s*=\s*(['"])([a-z0-9-]+)\2/g;

/**
 * Find `boto3.client("x")`, `boto3.resource("x")`, `Session().client("x")`, `session.client(service_name="x")`,
 * `session.create_client("x")` calls with a literal service name. Names that are not AWS services are ignored.
 * Pure; never throws.
 */
export function scanSourceForServices(
  files: readonly SourceFile[],
  opts: { knownServices?: readonly string[] } = {},
): ServiceCall[] {
  const known = new Set(opts.knownServices ?? BUILTIN_AWS_SERVICES);
  const calls: ServiceCall[] = [];
  for (const file of files) {
    const text = file.content;
    const lineStarts = [0];
    for (let i = text.indexOf('\n'); i >= 0; i = text.indexOf('\n', i + 1)) lineStarts.push(i + 1);
    const lineOf = (offset: number): number => {
      let lo = 0;
      let hi = lineStarts.length - 1;
      while (lo < hi) {
        const mid = (lo + hi + 1) >> 1;
        if ((lineStarts[mid] ?? 0) <= offset) lo = mid;
        else hi = mid - 1;
      }
      return lo + 1;
    };
    const inComment = (offset: number): boolean => {
      const start = lineStarts[lineOf(offset) - 1] ?? 0;
      return text.slice(start, offset).includes('#');
    };
    const seen = new Set<number>();
    const add = (service: string, offset: number): void => {
      if (!known.has(service) || seen.has(offset) || inComment(offset)) return;
      seen.add(offset);
      calls.push({ service, file: file.path, line: lineOf(offset) });
    };
    for (const m of text.matchAll(POSITIONAL)) {
      const name = m[2] ?? '';
      add(name, (m.index ?? 0) + m[0].length - name.length - 1);
    }
    for (const m of text.matchAll(KEYWORD)) {
      const name = m[3] ?? '';
      add(name, (m.index ?? 0) + m[0].length - name.length - 1);
    }
  }
  return calls.sort((a, b) => a.file.localeCompare(b.file) || a.line - b.line || a.service.localeCompare(b.service));
}

/** The calls whose service the profile does not keep, each with a message naming file and line. Never throws. */
export function checkServiceUsage(profile: Profile, calls: readonly ServiceCall[]): ServiceViolation[] {
  const kept = new Set(keptServices(profile));
  return calls
    .filter((c) => !kept.has(c.service))
    .map((c) => ({
      ...c,
      message: `${c.file}:${c.line}: calls AWS service '${c.service}', which the optimizer profile removes (kept: ${[...kept].join(', ')}); add it to aws.services`,
    }));
}
