import { readFileSync } from 'node:fs';
import { describe, expect, it } from 'vitest';
import { targetFromScratch } from '../../../packages/builder/src/buildkit/dockerfile-stages.js';

const dockerfile = (name: string) => readFileSync(new URL(`../../../dockerfiles/${name}`, import.meta.url), 'utf8');

describe('targetFromScratch', () => {
  it("follows the target's FROM through earlier stages to scratch", () => {
    const text = 'FROM scratch AS base\nCOPY a /\nFROM --platform=linux/amd64 base AS final\nFROM python:3 AS other\n';
    expect(targetFromScratch(text, 'final')).toBe(true);
    expect(targetFromScratch(text, 'BASE')).toBe(true);
    expect(targetFromScratch(text, 'other')).toBe(false);
    expect(targetFromScratch(text)).toBe(false); // the last stage
    expect(targetFromScratch('FROM scratch\n')).toBe(true);
    expect(targetFromScratch('ARG B=scratch\nFROM ${B}\n')).toBe(false);
    expect(targetFromScratch('FROM a AS b\nFROM b AS a\n', 'a')).toBe(false); // a loop ends
  });

  it("knows the example images: the worker's minimal runtime is FROM scratch, its slim runtime and the API are not", () => {
    expect(targetFromScratch(dockerfile('worker.Dockerfile'), 'minimal')).toBe(true);
    expect(targetFromScratch(dockerfile('worker.Dockerfile'), 'runtime')).toBe(false);
    expect(targetFromScratch(dockerfile('api.Dockerfile'), 'runtime')).toBe(false);
  });
});
