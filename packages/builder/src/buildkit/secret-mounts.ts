/**
 * The `RUN --mount=type=secret,…` mounts of a Dockerfile, read the way BuildKit's Dockerfile frontend reads them
 * (moby/buildkit frontend/dockerfile/instructions/commands_runmount.go): `id` defaults to the base name of `target`
 * (alias `dst`, `destination`), `required` is false unless given (`required` or `required=true`).
 */
export interface SecretMount {
  id: string;
  required: boolean;
  /** 1-based line of the RUN instruction. */
  line: number;
}

/** Every secret mount of every RUN, in order. Lines joined by a trailing backslash count as one instruction. */
export function findSecretMounts(dockerfile: string): SecretMount[] {
  const mounts: SecretMount[] = [];
  for (const { text, line } of instructions(dockerfile)) {
    if (!/^\s*RUN\b/i.test(text)) continue;
    for (const match of text.matchAll(/--mount=("[^"]*"|'[^']*'|\S+)/g)) {
      const mount = parseMount((match[1] ?? '').replace(/^["']|["']$/g, ''), line);
      if (mount) mounts.push(mount);
    }
  }
  return mounts;
}

function parseMount(csv: string, line: number): SecretMount | undefined {
  const fields = new Map<string, string>();
  for (const part of csv.split(',')) {
    const eq = part.indexOf('=');
    fields.set((eq < 0 ? part : part.slice(0, eq)).trim().toLowerCase(), eq < 0 ? '' : part.slice(eq + 1).trim());
  }
  if (fields.get('type') !== 'secret') return undefined;
  const target = fields.get('target') ?? fields.get('dst') ?? fields.get('destination');
  const id = fields.get('id') || target?.split('/').filter(Boolean).at(-1) || '';
  const required = fields.get('required');
  return { id, required: required !== undefined && required !== 'false', line };
}

/** Instructions with continuation lines joined; comment lines inside a continuation are skipped (as BuildKit does). */
function instructions(dockerfile: string): { text: string; line: number }[] {
  const out: { text: string; line: number }[] = [];
  let current: { text: string; line: number } | undefined;
  dockerfile.split(/\r?\n/).forEach((raw, index) => {
    if (current && /^\s*#/.test(raw)) return;
    const continued = /\\\s*$/.test(raw);
    const text = raw.replace(/\\\s*$/, ' ');
    current = current ? { text: `${current.text}${text}`, line: current.line } : { text, line: index + 1 };
    if (!continued) {
      out.push(current);
      current = undefined;
    }
  });
  if (current) out.push(current);
  return out;
}
