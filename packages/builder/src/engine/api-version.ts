import { EngineApiVersionError } from './engine-errors.js';

/**
 * The Engine API versions we speak: every request goes to a versioned path (`/v1.45/…`), so the engine answers as
 * that version documents, and an endpoint it deprecates later (`POST /session` in 1.53) keeps working for us until
 * the engine drops our version altogether — which `negotiateApiVersion` then says in words. 1.41 is Docker 20.10 and
 * 1.45 Docker 26.1, the two engines the test suite runs on; a newer engine is spoken to as 1.45.
 */
export const SUPPORTED_API = { min: '1.41', max: '1.45' } as const;

/** `GET /version`, in our names. */
export interface EngineVersion {
  apiVersion: string;
  minApiVersion?: string;
  version: string;
  os: string;
  arch: string;
}

/** What we ask of an engine beyond the basic calls. */
export type EngineFeature = 'session';

interface FeatureSpec {
  description: string;
  /** The first API version that has it, and the first that no longer does. */
  min: string;
  removedIn?: string;
}

const ENGINE_FEATURES: Record<EngineFeature, FeatureSpec> = {
  session: {
    description: 'BuildKit sessions (POST /session: the build context, build secrets, registry credentials)',
    min: '1.39',
  },
};

/** The version negotiated with one engine. */
export interface EngineApi {
  /** The version our requests use, e.g. `1.45`. */
  version: string;
  engine: EngineVersion;
  supports(feature: EngineFeature): boolean;
  /** @throws {EngineApiVersionError} naming the feature and both versions when the engine lacks it. */
  require(feature: EngineFeature): void;
}

/**
 * The highest version both we and the engine speak (its `ApiVersion`, down to its `MinAPIVersion`).
 * @throws {EngineApiVersionError} when the ranges do not meet: the engine is older than Docker 20.10, or so new that it
 *   no longer speaks 1.45.
 */
export function negotiateApiVersion(engine: EngineVersion, address: string): EngineApi {
  const engineApi = `${engine.minApiVersion ?? engine.apiVersion}–${engine.apiVersion} (Docker ${engine.version})`;
  const ours = `${SUPPORTED_API.min}–${SUPPORTED_API.max}`;
  if (compareApiVersions(engine.apiVersion, SUPPORTED_API.min) < 0) {
    throw new EngineApiVersionError(
      address,
      '@4pass/builder',
      engineApi,
      ours,
      'Upgrade the engine to Docker 20.10 or later.',
    );
  }
  if (engine.minApiVersion && compareApiVersions(engine.minApiVersion, SUPPORTED_API.max) > 0) {
    throw new EngineApiVersionError(
      address,
      '@4pass/builder',
      engineApi,
      ours,
      `The engine no longer serves API ${SUPPORTED_API.max}: upgrade @4pass/builder (or start dockerd with DOCKER_MIN_API_VERSION=${SUPPORTED_API.max}).`,
    );
  }
  const version = compareApiVersions(engine.apiVersion, SUPPORTED_API.max) < 0 ? engine.apiVersion : SUPPORTED_API.max;
  const supports = (feature: EngineFeature): boolean => {
    const spec = ENGINE_FEATURES[feature];
    return (
      compareApiVersions(version, spec.min) >= 0 && (!spec.removedIn || compareApiVersions(version, spec.removedIn) < 0)
    );
  };
  return {
    version,
    engine,
    supports,
    require(feature) {
      if (supports(feature)) return;
      const spec = ENGINE_FEATURES[feature];
      const range = spec.removedIn ? `${spec.min}–${spec.removedIn} (removed in ${spec.removedIn})` : `≥ ${spec.min}`;
      throw new EngineApiVersionError(address, spec.description, `${version} (Docker ${engine.version})`, range, '');
    },
  };
}

/** `1.9` < `1.41` < `1.45`: numeric per component. */
export function compareApiVersions(a: string, b: string): number {
  const [aMajor = 0, aMinor = 0] = a.split('.').map(Number);
  const [bMajor = 0, bMinor = 0] = b.split('.').map(Number);
  return aMajor - bMajor || aMinor - bMinor;
}
