import { joinContinuations } from './base-images.js';

/**
 * Whether the stage a build produces (the `target`, else the last) starts `FROM scratch`, directly or through the
 * stages it is built on (`FROM builder AS final` where `builder` is `FROM scratch`). Such an image has no base image
 * of its own: whatever of a distribution it holds, it was copied in, so the gate checks by default that scanners can
 * still see it (structure check `scannerVisible`). An `ARG` in a FROM line counts as not scratch. Pure.
 */
export function targetFromScratch(dockerfile: string, target?: string): boolean {
  const stages: { image: string; name?: string }[] = [];
  for (const line of joinContinuations(dockerfile)) {
    const m = /^\s*FROM\s+(.*)$/i.exec(line);
    if (!m) continue;
    const words = (m[1] ?? '')
      .trim()
      .split(/\s+/)
      .filter((w) => !w.startsWith('--'));
    const as = words.findIndex((w) => w.toLowerCase() === 'as');
    const name = as >= 0 ? words[as + 1]?.toLowerCase() : undefined;
    stages.push({ image: words[0] ?? '', ...(name && { name }) });
  }
  let stage = target === undefined ? stages.at(-1) : stages.find((s) => s.name === target.toLowerCase());
  for (let hops = 0; stage && hops < stages.length; hops++) {
    if (stage.image.toLowerCase() === 'scratch') return true;
    const parent = stage.image.toLowerCase();
    stage = stages.find((s) => s.name === parent);
  }
  return false;
}
