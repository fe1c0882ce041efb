import { describe, expect, it } from 'vitest';
import { EngineApiVersionError } from '@4pass/builder';
import {
  compareApiVersions,
  negotiateApiVersion,
  SUPPORTED_API,
} from '../../../packages/builder/src/engine/api-version.js';

const engine = (apiVersion: string, minApiVersion: string, version = 'x') => ({
  apiVersion,
  minApiVersion,
  version,
  os: 'linux',
  arch: 'amd64',
});

describe('negotiateApiVersion', () => {
  it('speaks the engine’s own version inside our range, and our newest to a newer engine', () => {
    expect(negotiateApiVersion(engine('1.41', '1.12', '20.10.24'), 'unix:///s').version).toBe('1.41');
    expect(negotiateApiVersion(engine('1.43', '1.12'), 'unix:///s').version).toBe('1.43');
    expect(negotiateApiVersion(engine('1.52', '1.44', '29.1.0'), 'unix:///s').version).toBe(SUPPORTED_API.max);
  });

  it('refuses an engine older than Docker 20.10, naming both versions', () => {
    const error = (() => {
      try {
        negotiateApiVersion(engine('1.40', '1.12', '19.03.15'), 'tcp://h:2376');
      } catch (e) {
        return e;
      }
    })();
    expect(error).toBeInstanceOf(EngineApiVersionError);
    expect((error as Error).message).toBe(
      '@4pass/builder needs Engine API 1.41–1.45; the engine at tcp://h:2376 speaks 1.12–1.40 (Docker 19.03.15). Upgrade the engine to Docker 20.10 or later.',
    );
  });

  it('refuses an engine that no longer serves our newest version', () => {
    expect(() => negotiateApiVersion(engine('1.60', '1.50', '40.0.0'), 'unix:///s')).toThrow(
      /speaks 1\.50–1\.60 \(Docker 40\.0\.0\)\. The engine no longer serves API 1\.45/,
    );
  });

  it('says which feature a version lacks', () => {
    const api = negotiateApiVersion(engine('1.41', '1.12'), 'unix:///s');
    expect(api.supports('session')).toBe(true);
    expect(() => api.require('session')).not.toThrow();
  });

  it('compares versions per component', () => {
    expect(compareApiVersions('1.9', '1.41')).toBeLessThan(0);
    expect(compareApiVersions('1.45', '1.45')).toBe(0);
    expect(compareApiVersions('2.0', '1.99')).toBeGreaterThan(0);
  });
});
