import protobuf from 'protobufjs';

/**
 * Wire types of the gRPC services a BuildKit session client serves, with BuildKit's field names:
 * - `moby.buildkit.secrets.v1.Secrets` (moby/buildkit session/secrets/secrets.proto),
 * - `moby.filesync.v1.Auth` (session/auth/auth.proto; only `Credentials` is answered),
 * - `grpc.health.v1.Health` (grpc/grpc-proto grpc/health/v1/health.proto), which BuildKit polls every 5 s;
 * - `moby.filesync.v1.FileSync/DiffCopy` (session/filesync/filesync.proto), whose stream messages are fsutil's
 *   `Packet`s (tonistiigi/fsutil types/wire.proto, types/stat.proto).
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

/**
 * fsutil's `Stat`: one entry of a synced directory. `mode` is Go's `os.FileMode` (type bits high: directory 1<<31,
 * symlink 1<<27; permission bits low), `modTime` nanoseconds since the epoch (a decimal string: it exceeds 2^53).
 */
export interface WireStat {
  path: string;
  mode: number;
  uid: number;
  gid: number;
  size: number;
  modTime: string;
  linkname: string;
}

/** fsutil's `Packet.PacketType`. */
export const PacketType = { stat: 0, req: 1, data: 2, fin: 3, err: 4 } as const;

export interface WirePacket {
  type: number;
  stat?: WireStat;
  ID: number;
  data: Uint8Array;
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
  diffCopy: '/moby.filesync.v1.FileSync/DiffCopy',
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
    fsutil: {
      nested: {
        Stat: {
          fields: {
            path: { type: 'string', id: 1 },
            mode: { type: 'uint32', id: 2 },
            uid: { type: 'uint32', id: 3 },
            gid: { type: 'uint32', id: 4 },
            size: { type: 'int64', id: 5 },
            modTime: { type: 'int64', id: 6 },
            linkname: { type: 'string', id: 7 },
            devmajor: { type: 'int64', id: 8 },
            devminor: { type: 'int64', id: 9 },
            // 10: xattrs (map<string, bytes>): never sent; skipped as unknown when received.
          },
        },
        Packet: {
          fields: {
            type: { type: 'int32', id: 1 },
            stat: { type: 'Stat', id: 2 },
            ID: { type: 'uint32', id: 3 },
            data: { type: 'bytes', id: 4 },
          },
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
const Packet = root.lookupType('fsutil.Packet');

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

export function encodePacket(packet: Partial<WirePacket>): Uint8Array {
  return Packet.encode(Packet.create(packet)).finish();
}

export function decodePacket(bytes: Uint8Array): WirePacket {
  const o = Packet.toObject(Packet.decode(bytes), { defaults: true, longs: String }) as {
    type: number;
    stat?: Record<string, unknown>;
    ID: number;
    data: Uint8Array;
  };
  return { type: o.type, ID: o.ID, data: o.data, ...(o.stat && { stat: statOf(o.stat) }) };
}

function statOf(o: Record<string, unknown>): WireStat {
  return {
    path: String(o.path ?? ''),
    mode: Number(o.mode ?? 0),
    uid: Number(o.uid ?? 0),
    gid: Number(o.gid ?? 0),
    size: Number(o.size ?? 0),
    modTime: String(o.modTime ?? '0'),
    linkname: String(o.linkname ?? ''),
  };
}
