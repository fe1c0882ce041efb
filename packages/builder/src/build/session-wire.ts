import protobuf from 'protobufjs';

/**
 * Wire types of the gRPC services a BuildKit session client serves, with BuildKit's field names:
 * - `moby.buildkit.secrets.v1.Secrets` (moby/buildkit session/secrets/secrets.proto),
 * - `moby.filesync.v1.Auth` (session/auth/auth.proto; only `Credentials` is answered),
 * - `grpc.health.v1.Health` (grpc/grpc-proto grpc/health/v1/health.proto), which BuildKit polls every 5 s.
 * Defined by reflection like trace-wire.ts, so nothing has to be copied next to dist/.
 */
export interface WireGetSecretRequest {
  ID: string;
}
export interface WireCredentialsRequest {
  Host: string;
}
export interface WireCredentialsResponse {
  Username: string;
  Secret: string;
}

/** `grpc.health.v1.HealthCheckResponse.ServingStatus.SERVING`. */
export const HEALTH_SERVING = 1;

/** Full gRPC method paths, as BuildKit calls them (and as announced in `X-Docker-Expose-Session-Grpc-Method`). */
export const SESSION_METHODS = {
  getSecret: '/moby.buildkit.secrets.v1.Secrets/GetSecret',
  credentials: '/moby.filesync.v1.Auth/Credentials',
  fetchToken: '/moby.filesync.v1.Auth/FetchToken',
  getTokenAuthority: '/moby.filesync.v1.Auth/GetTokenAuthority',
  verifyTokenAuthority: '/moby.filesync.v1.Auth/VerifyTokenAuthority',
  healthCheck: '/grpc.health.v1.Health/Check',
} as const;

const root = protobuf.Root.fromJSON({
  nested: {
    secrets: {
      nested: {
        // Field 2 (`map<string,string> annotations`, BuildKit >= 0.13) is not needed and skipped as unknown.
        GetSecretRequest: { fields: { ID: { type: 'string', id: 1 } } },
        GetSecretResponse: { fields: { data: { type: 'bytes', id: 1 } } },
      },
    },
    auth: {
      nested: {
        CredentialsRequest: { fields: { Host: { type: 'string', id: 1 } } },
        CredentialsResponse: {
          fields: { Username: { type: 'string', id: 1 }, Secret: { type: 'string', id: 2 } },
        },
      },
    },
    health: {
      nested: {
        HealthCheckRequest: { fields: { service: { type: 'string', id: 1 } } },
        HealthCheckResponse: { fields: { status: { type: 'int32', id: 1 } } },
      },
    },
  },
});

const GetSecretRequest = root.lookupType('secrets.GetSecretRequest');
const GetSecretResponse = root.lookupType('secrets.GetSecretResponse');
const CredentialsRequest = root.lookupType('auth.CredentialsRequest');
const CredentialsResponse = root.lookupType('auth.CredentialsResponse');
const HealthCheckResponse = root.lookupType('health.HealthCheckResponse');

const toObject = (type: protobuf.Type, bytes: Uint8Array): Record<string, unknown> =>
  type.toObject(type.decode(bytes), { defaults: true, objects: true });

export function decodeGetSecretRequest(bytes: Uint8Array): WireGetSecretRequest {
  return { ID: String(toObject(GetSecretRequest, bytes).ID ?? '') };
}

export function encodeGetSecretResponse(data: Uint8Array): Uint8Array {
  return GetSecretResponse.encode(GetSecretResponse.create({ data })).finish();
}

export function decodeCredentialsRequest(bytes: Uint8Array): WireCredentialsRequest {
  return { Host: String(toObject(CredentialsRequest, bytes).Host ?? '') };
}

/** Empty fields are left out (proto3 defaults), so "no credentials" is an empty message. */
export function encodeCredentialsResponse(response: WireCredentialsResponse): Uint8Array {
  const set = Object.fromEntries(Object.entries(response).filter(([, value]) => value !== ''));
  return CredentialsResponse.encode(CredentialsResponse.create(set)).finish();
}

export function encodeHealthCheckResponse(status: number): Uint8Array {
  return HealthCheckResponse.encode(HealthCheckResponse.create({ status })).finish();
}
