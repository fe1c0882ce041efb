import protobuf from 'protobufjs';

/**
 * Wire types of `moby.buildkit.v1.StatusResponse` (moby/buildkit api/services/control/control.proto), the payload of
 * `{"id":"moby.buildkit.trace","aux":"<base64>"}` lines. Field names are BuildKit's.
 */
export interface WireTimestamp {
  seconds: number;
  nanos: number;
}
export interface WireVertex {
  digest: string;
  inputs: string[];
  name: string;
  cached: boolean;
  started: WireTimestamp | null;
  completed: WireTimestamp | null;
  error: string;
  progressGroup?: { id: string; name: string; weak: boolean } | null;
}
export interface WireVertexStatus {
  ID: string;
  vertex: string;
  name: string;
  current: number;
  total: number;
  timestamp: WireTimestamp | null;
  started: WireTimestamp | null;
  completed: WireTimestamp | null;
}
export interface WireVertexLog {
  vertex: string;
  timestamp: WireTimestamp | null;
  stream: number;
  msg: Uint8Array;
}
export interface WireVertexWarning {
  vertex: string;
  level: number;
  short: Uint8Array;
  detail: Uint8Array[];
  url: string;
}
export interface WireStatusResponse {
  vertexes: WireVertex[];
  statuses: WireVertexStatus[];
  logs: WireVertexLog[];
  warnings: WireVertexWarning[];
}

// Defined by reflection rather than a .proto file, so nothing has to be copied next to dist/. Field numbers never
// changed between BuildKit v0.8 (Docker 20.10) and today; unknown fields are skipped.
const root = protobuf.Root.fromJSON({
  nested: {
    moby: {
      nested: {
        buildkit: {
          nested: {
            v1: {
              nested: {
                StatusResponse: {
                  fields: {
                    vertexes: { rule: 'repeated', type: 'Vertex', id: 1 },
                    statuses: { rule: 'repeated', type: 'VertexStatus', id: 2 },
                    logs: { rule: 'repeated', type: 'VertexLog', id: 3 },
                    warnings: { rule: 'repeated', type: 'VertexWarning', id: 4 },
                  },
                },
                Vertex: {
                  fields: {
                    digest: { type: 'string', id: 1 },
                    inputs: { rule: 'repeated', type: 'string', id: 2 },
                    name: { type: 'string', id: 3 },
                    cached: { type: 'bool', id: 4 },
                    started: { type: 'Timestamp', id: 5 },
                    completed: { type: 'Timestamp', id: 6 },
                    error: { type: 'string', id: 7 },
                    progressGroup: { type: 'ProgressGroup', id: 8 },
                  },
                },
                VertexStatus: {
                  fields: {
                    ID: { type: 'string', id: 1 },
                    vertex: { type: 'string', id: 2 },
                    name: { type: 'string', id: 3 },
                    current: { type: 'int64', id: 4 },
                    total: { type: 'int64', id: 5 },
                    timestamp: { type: 'Timestamp', id: 6 },
                    started: { type: 'Timestamp', id: 7 },
                    completed: { type: 'Timestamp', id: 8 },
                  },
                },
                VertexLog: {
                  fields: {
                    vertex: { type: 'string', id: 1 },
                    timestamp: { type: 'Timestamp', id: 2 },
                    stream: { type: 'int64', id: 3 },
                    msg: { type: 'bytes', id: 4 },
                  },
                },
                VertexWarning: {
                  fields: {
                    vertex: { type: 'string', id: 1 },
                    level: { type: 'int64', id: 2 },
                    short: { type: 'bytes', id: 3 },
                    detail: { rule: 'repeated', type: 'bytes', id: 4 },
                    url: { type: 'string', id: 5 },
                  },
                },
                Timestamp: { fields: { seconds: { type: 'int64', id: 1 }, nanos: { type: 'int32', id: 2 } } },
                ProgressGroup: {
                  fields: {
                    id: { type: 'string', id: 1 },
                    name: { type: 'string', id: 2 },
                    weak: { type: 'bool', id: 3 },
                  },
                },
              },
            },
          },
        },
      },
    },
  },
});

const StatusResponse = root.lookupType('moby.buildkit.v1.StatusResponse');

/**
 * Decodes the `aux` of a `moby.buildkit.trace` line (a base64 string, or raw bytes) into BuildKit's StatusResponse.
 * @throws Error when the payload is not a valid StatusResponse.
 */
export function decodeBuildkitTrace(aux: string | Uint8Array): WireStatusResponse {
  const bytes = typeof aux === 'string' ? Buffer.from(aux, 'base64') : aux;
  const message = StatusResponse.decode(bytes);
  const object = StatusResponse.toObject(message, { longs: Number, bytes: Buffer, defaults: false, arrays: true });
  const status = object as Partial<WireStatusResponse>;
  return {
    vertexes: (status.vertexes ?? []).map((v) => ({
      digest: v.digest ?? '',
      inputs: v.inputs ?? [],
      name: v.name ?? '',
      cached: v.cached ?? false,
      started: v.started ? normaliseTimestamp(v.started) : null,
      completed: v.completed ? normaliseTimestamp(v.completed) : null,
      error: v.error ?? '',
      progressGroup: v.progressGroup ?? null,
    })),
    statuses: (status.statuses ?? []).map((s) => ({
      ID: s.ID ?? '',
      vertex: s.vertex ?? '',
      name: s.name ?? '',
      current: s.current ?? 0,
      total: s.total ?? 0,
      timestamp: s.timestamp ? normaliseTimestamp(s.timestamp) : null,
      started: s.started ? normaliseTimestamp(s.started) : null,
      completed: s.completed ? normaliseTimestamp(s.completed) : null,
    })),
    logs: (status.logs ?? []).map((l) => ({
      vertex: l.vertex ?? '',
      timestamp: l.timestamp ? normaliseTimestamp(l.timestamp) : null,
      stream: l.stream ?? 1,
      msg: l.msg ?? new Uint8Array(0),
    })),
    warnings: (status.warnings ?? []).map((w) => ({
      vertex: w.vertex ?? '',
      level: w.level ?? 0,
      short: w.short ?? new Uint8Array(0),
      detail: w.detail ?? [],
      url: w.url ?? '',
    })),
  };
}

function normaliseTimestamp(ts: Partial<WireTimestamp>): WireTimestamp {
  return { seconds: ts.seconds ?? 0, nanos: ts.nanos ?? 0 };
}

/** Milliseconds since the epoch of a BuildKit timestamp (fractional; nanosecond precision kept). */
export function timestampToMs(ts: WireTimestamp): number {
  return ts.seconds * 1000 + ts.nanos / 1e6;
}
