import { describe, expect, it } from 'vitest';
import { walkPath, type PathNode } from '@4pass/optimizer';

/** A tree as path → node (paths relative to the root); directories are `present`. */
const tree =
  (nodes: Record<string, PathNode>) =>
  (p: string): PathNode =>
    nodes[p] ?? { kind: 'missing' };

describe('walkPath', () => {
  const merged = tree({
    bin: { kind: 'link', target: 'usr/bin' },
    usr: { kind: 'present' },
    'usr/bin': { kind: 'present' },
    'usr/bin/sh': { kind: 'link', target: 'dash' },
    'usr/bin/dash': { kind: 'present' },
    'usr/lib': { kind: 'present' },
    'usr/lib/abs': { kind: 'link', target: '/usr/bin/../bin/dash' },
  });

  it('follows relative and absolute links in every component, and `..` from what was reached', () => {
    expect(walkPath('/bin/sh', merged)).toEqual({ path: 'usr/bin/dash', links: ['bin', 'usr/bin/sh'] });
    expect(walkPath('/usr/lib/abs', merged)).toEqual({ path: 'usr/bin/dash', links: ['usr/lib/abs'] });
    expect(walkPath('/bin/../lib', merged)).toEqual({ path: 'usr/lib', links: ['bin'] });
  });

  it('says missing for an absent component and loop past 40 links', () => {
    expect(walkPath('/bin/bash', merged)).toBe('missing');
    expect(walkPath('/a', tree({ a: { kind: 'link', target: 'b' }, b: { kind: 'link', target: 'a' } }))).toBe('loop');
  });
});
