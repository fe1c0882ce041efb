import { describe, expect, it } from 'vitest';
import { releaseLifecyclePolicy, type LifecyclePolicy } from '../../../packages/builder/src/push/lifecycle-policy.js';
import { evaluatePolicy, policyProblems, type StoredImage } from './lifecycle-evaluator.js';

const NOW = new Date('2025-06-01T12:00:00Z');
const daysAgo = (d: number) => new Date(NOW.getTime() - d * 86_400_000);
const image = (id: string, tags: string[], days: number, subject?: string): StoredImage => ({
  id,
  tags,
  pushedAt: daysAgo(days),
  ...(subject && { subject }),
});
const countRule = (rulePriority: number, prefix: string, countNumber: number) => ({
  rulePriority,
  selection: {
    tagStatus: 'tagged' as const,
    tagPrefixList: [prefix],
    countType: 'imageCountMoreThan' as const,
    countNumber,
  },
  action: { type: 'expire' as const },
});

describe('the lifecycle evaluator follows the ECR user guide', () => {
  const repo = [image('A', ['beta-1', 'prod-1'], 10), image('B', ['beta-2', 'prod-2'], 9), image('C', ['beta-3'], 8)];

  it('multiple rules, example A: prod keeps one, beta keeps one, but B matched the prod rule first: only A expires', () => {
    const policy = { rules: [countRule(1, 'prod', 1), countRule(2, 'beta', 1)] };
    expect([...evaluatePolicy(policy, repo, NOW).keys()]).toEqual(['A']);
  });

  it('multiple rules, example B (priorities swapped): A and B expire', () => {
    const policy = { rules: [countRule(1, 'beta', 1), countRule(2, 'prod', 1)] };
    expect([...evaluatePolicy(policy, repo, NOW).keys()].sort()).toEqual(['A', 'B']);
  });

  it('several tag prefixes in one rule select only images with all of them (examples of the guide)', () => {
    const byAge: LifecyclePolicy = {
      rules: [
        {
          rulePriority: 1,
          selection: {
            tagStatus: 'tagged',
            tagPrefixList: ['alpha', 'beta'],
            countType: 'sinceImagePushed',
            countUnit: 'days',
            countNumber: 5,
          },
          action: { type: 'expire' },
        },
      ],
    };
    const six = [
      image('A', ['alpha-1'], 12),
      image('B', ['beta-1'], 11),
      image('C', ['alpha-2', 'beta-2'], 10),
      image('D', ['alpha-3'], 4),
      image('E', ['beta-3'], 3),
      image('F', ['alpha-4', 'beta-4'], 2),
    ];
    expect([...evaluatePolicy(byAge, six, NOW).keys()]).toEqual(['C']);
    const byCount = {
      rules: [
        {
          ...countRule(1, 'alpha', 1),
          selection: { ...countRule(1, 'alpha', 1).selection, tagPrefixList: ['alpha', 'beta'] },
        },
      ],
    };
    const three = [
      image('A', ['alpha-1', 'beta-1', 'gamma-1'], 10),
      image('B', ['alpha-2', 'beta-2'], 9),
      image('C', ['alpha-3', 'beta-3', 'gamma-2'], 8),
    ];
    expect([...evaluatePolicy(byCount, three, NOW).keys()].sort()).toEqual(['A', 'B']);
  });

  it('knows what ECR refuses: an `any` rule before others, two untagged rules, a zero count, five wildcards', () => {
    const policy = releaseLifecyclePolicy();
    const [latest, releases, sha, untagged] = policy.rules as [
      LifecyclePolicy['rules'][number],
      LifecyclePolicy['rules'][number],
      LifecyclePolicy['rules'][number],
      LifecyclePolicy['rules'][number],
    ];
    expect(policyProblems(policy)).toEqual([]);
    const any = {
      ...sha,
      selection: { tagStatus: 'any' as const, countType: 'imageCountMoreThan' as const, countNumber: 5 },
    };
    expect(policyProblems({ rules: [latest, any, untagged] })).toEqual(['rule 3: any must have the highest priority']);
    expect(policyProblems({ rules: [latest, untagged, { ...untagged, rulePriority: 9 }] })).toEqual([
      'only one rule may select untagged images',
    ]);
    expect(policyProblems({ rules: [{ ...releases, selection: { ...releases.selection, countNumber: 0 } }] })).toEqual([
      'rule 2: countNumber must be a positive integer',
    ]);
    const wild = { ...sha, selection: { ...sha.selection, tagPatternList: ['*a*b*c*d*'] } };
    expect(policyProblems({ rules: [wild] })).toEqual(['rule 3: at most four wildcards in "*a*b*c*d*"']);
  });
});

/**
 * A year of main: a sha image pushed every day with its gate report (an artifact naming it as subject), every 20th
 * day's image released (the marker `release-sha-…` on it, a release record next to it), `latest` rolled back to an
 * old release, and some untagged leftovers.
 */
function aYearOfMain(): { images: StoredImage[]; releasedDays: number[]; latestDay: number } {
  const images: StoredImage[] = [];
  const releasedDays: number[] = [];
  for (let day = 365; day >= 1; day--) {
    const id = `img-${day}`;
    const tags = [`sha-${String(day).padStart(7, '0')}`];
    if (day % 20 === 0) {
      tags.push(`release-sha-${String(day).padStart(7, '0')}`);
      releasedDays.push(day);
      images.push(image(`record-${day}`, [`sha256-${day}.release-20250101-000000`], day - 0.5, id));
    }
    images.push(image(id, tags, day));
    images.push(image(`report-${day}`, [`sha256-${day}.report`], day, id));
  }
  const latestDay = 300; // rolled back to a release of ten months ago
  images.find((i) => i.id === `img-${latestDay}`)?.tags.push('latest');
  images.push(image('untagged-old', [], 3), image('untagged-new', [], 0.2));
  return { images, releasedDays, latestDay };
}

describe('releaseLifecyclePolicy evaluated the way ECR evaluates it', () => {
  const { images, releasedDays, latestDay } = aYearOfMain();
  const expired = evaluatePolicy(releaseLifecyclePolicy(), images, NOW);
  const kept = (id: string) => !expired.has(id);

  it('never expires latest, whatever its age', () => {
    expect(kept(`img-${latestDay}`)).toBe(true);
  });

  it('keeps the last 10 releases whatever their age, and lets older releases go', () => {
    const newestFirst = [...releasedDays].sort((a, b) => a - b);
    for (const day of newestFirst.slice(0, 10)) expect(kept(`img-${day}`), `release of day ${day}`).toBe(true);
    // Day 300 is latest (rule 1); the other older releases are expired by the release rule.
    const older = newestFirst.slice(10).filter((d) => d !== latestDay);
    expect(older.length).toBeGreaterThan(0);
    for (const day of older) expect(expired.get(`img-${day}`), `release of day ${day}`).toBe(2);
    expect(newestFirst[9]).toBe(200);
    expect(kept('img-200')).toBe(true);
  });

  it('counts images, not their artifacts: the newest 20 sha images are kept, the rest expire', () => {
    for (let day = 1; day <= 20; day++) expect(kept(`img-${day}`), `sha image of day ${day}`).toBe(true);
    const unreleased = Array.from({ length: 365 - 20 }, (_, i) => i + 21).filter((d) => d % 20 !== 0);
    for (const day of unreleased) expect(expired.get(`img-${day}`), `sha image of day ${day}`).toBe(3);
  });

  it('never counts nor expires an artifact on its own: it goes exactly with its image', () => {
    const artifacts = images.filter((i) => i.subject);
    expect(artifacts.length).toBe(365 + releasedDays.length);
    for (const artifact of artifacts) {
      expect(kept(artifact.id), artifact.id).toBe(kept(artifact.subject as string));
      if (!kept(artifact.id)) expect(expired.get(artifact.id)).toBe(0); // deleted with its subject, by no rule
    }
  });

  it('expires untagged images after a day', () => {
    expect(expired.get('untagged-old')).toBe(4);
    expect(kept('untagged-new')).toBe(true);
  });

  it('the counts are settings: 3 releases and 5 sha images', () => {
    const small = evaluatePolicy(releaseLifecyclePolicy({ releases: 3, shaImages: 5 }), images, NOW);
    const keptImages = images.filter((i) => /^img-/.test(i.id) && !small.has(i.id)).map((i) => Number(i.id.slice(4)));
    expect(keptImages.sort((a, b) => a - b)).toEqual([1, 2, 3, 4, 5, 20, 40, 60, 300]);
    expect(() => releaseLifecyclePolicy({ releases: 0 })).toThrow(RangeError);
  });

  it('the policy it replaces ("keep the last 10 images of any tag status") counted reports and expired latest', () => {
    const old: LifecyclePolicy = {
      rules: [
        {
          rulePriority: 1,
          selection: { tagStatus: 'any', countType: 'imageCountMoreThan', countNumber: 10 },
          action: { type: 'expire' },
        },
      ],
    };
    const before = evaluatePolicy(old, images, NOW);
    const keptImages = images.filter((i) => /^img-/.test(i.id) && !before.has(i.id));
    expect(keptImages.length).toBeLessThanOrEqual(5);
    expect(before.has(`img-${latestDay}`)).toBe(true);
  });
});
