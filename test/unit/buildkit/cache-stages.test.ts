import { describe, expect, it } from 'vitest';
import { cacheRefs, dependencyStages } from '../../../packages/builder/src/buildkit/cache-stages.js';

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
