import { readFileSync } from 'node:fs';
import { describe, expect, it } from 'vitest';
import {
  cacheRefs,
  dependencyStages,
  targetFromScratch,
} from '../../../packages/builder/src/buildkit/dockerfile-stages.js';

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

const API = `ARG NODE_IMAGE=node:20-slim
ARG PYTHON_IMAGE=python:3.11-slim
FROM \${NODE_IMAGE} AS web
RUN npm ci
FROM \${PYTHON_IMAGE} AS deps
RUN pip install x
FROM deps AS runtime
COPY --from=web /app/dist /app/dist
RUN --mount=type=bind,from=unused,target=/x true
FROM runtime AS debug
`;

describe('dependencyStages', () => {
  it('lists the named stages a target needs, in Dockerfile order, through FROM and --from', () => {
    expect(dependencyStages(API, 'runtime')).toEqual(['web', 'deps']);
    expect(dependencyStages(API, 'debug')).toEqual(['web', 'deps', 'runtime']);
    expect(dependencyStages(API, 'web')).toEqual([]);
    expect(dependencyStages(API, 'nope')).toEqual([]);
    expect(dependencyStages(API)).toEqual(['web', 'deps', 'runtime']); // no target: the last stage
  });

  it('follows a bind mount from another stage and a multi-line COPY', () => {
    const text =
      'FROM a AS one\nFROM b AS two\nRUN --mount=type=bind,from=one,target=/o \\\n  true\nCOPY \\\n  --from=one /x /x\n';
    expect(dependencyStages(text, 'two')).toEqual(['one']);
  });
});

describe('cacheRefs', () => {
  it('tags each cache repository with each stage', () => {
    expect(cacheRefs(['reg:5000/4pass/api-cache'], ['web', 'runtime'])).toEqual([
      'reg:5000/4pass/api-cache:web',
      'reg:5000/4pass/api-cache:runtime',
    ]);
  });
});
