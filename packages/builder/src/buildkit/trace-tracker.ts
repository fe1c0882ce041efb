import { StringDecoder } from 'node:string_decoder';
import type { BuildEvent, StepRef } from './build-events.js';
import { timestampToMs } from './trace-wire.js';
import type { WireStatusResponse, WireVertex } from './trace-wire.js';

const LOG_TAIL_LINES = 10;

/** Outcome of one step, as recorded in the build result. */
export interface StepSummary {
  index: number;
  digest: string;
  name: string;
  cached: boolean;
  /** Wall time of the step's merged run intervals; 0 for cached steps. */
  durationMs: number;
  error?: string;
  canceled?: boolean;
}

interface VertexState {
  digest: string;
  name: string;
  index: number;
  cached: boolean;
  error: string;
  /** Start of the current run (ms); BuildKit re-sends vertexes and may run one again. */
  started: number | undefined;
  completed: number | undefined;
  intervals: [number, number][];
  announced: boolean;
  finished: boolean;
  partial: { text: string; stream: 'stdout' | 'stderr'; elapsedMs: number } | undefined;
  decoder: StringDecoder;
  logTail: string[];
}

/**
 * Keeps BuildKit's per-vertex state across trace messages (re-sent vertexes, restarts, run intervals, partial log
 * lines) and turns each decoded StatusResponse into ordered BuildEvents, following BuildKit's progressui rules:
 * a vertex is numbered when it starts, its logs are split into lines, completion is reported once.
 */
export class TraceTracker {
  private readonly vertexes = new Map<string, VertexState>();
  private nextIndex = 0;

  /** Applies one StatusResponse and returns the events it produces, in display order. */
  apply(status: WireStatusResponse): BuildEvent[] {
    const newlyCompleted = new Set<string>();
    for (const vertex of status.vertexes) {
      if (this.updateVertex(vertex)) newlyCompleted.add(vertex.digest);
    }
    const statusesByVertex = this.latestStatuses(status.statuses);
    const events: BuildEvent[] = [];
    for (const digest of this.displayOrder(status, newlyCompleted)) {
      const v = this.vertexes.get(digest);
      if (!v || v.started === undefined) continue; // not started yet: nothing to show (BuildKit waits too)
      if (!v.announced) events.push(this.announce(v));
      events.push(...statusEvents(v, statusesByVertex.get(digest) ?? []));
      for (const w of status.warnings) {
        if (w.vertex === digest)
          events.push({ type: 'step-warning', ...ref(v), message: Buffer.from(w.short).toString('utf8') });
      }
      for (const l of status.logs) {
        if (l.vertex !== digest) continue;
        const stream = l.stream === 2 ? 'stderr' : 'stdout';
        const elapsedMs = l.timestamp ? timestampToMs(l.timestamp) - (v.started ?? 0) : 0;
        this.addLog(v, v.decoder.write(Buffer.from(l.msg)), stream, elapsedMs, events);
      }
      if (newlyCompleted.has(digest)) this.complete(v, events);
    }
    return events;
  }

  /** Summaries of every step that started, by index. */
  steps(): StepSummary[] {
    return [...this.vertexes.values()]
      .filter((v) => v.index > 0)
      .sort((a, b) => a.index - b.index)
      .map((v) => {
        const summary: StepSummary = {
          index: v.index,
          digest: v.digest,
          name: v.name,
          cached: v.cached,
          durationMs: v.cached ? 0 : mergedDuration(v.intervals),
        };
        if (v.error !== '') {
          summary.error = v.error;
          if (isCanceled(v.error)) summary.canceled = true;
        }
        return summary;
      });
  }

  /**
   * The step that failed (not merely canceled), with its last log lines; undefined for frontend errors. A vertex can
   * fail without failing the build (importing a registry cache that is not there yet), so the one whose error the
   * build's own message (`daemonMessage`) carries comes first, then the first to fail.
   */
  failedStep(daemonMessage = ''): { step: StepRef; logTail: string[]; message: string } | undefined {
    const failed = [...this.vertexes.values()]
      .filter((v) => v.error !== '' && !isCanceled(v.error))
      .sort((a, b) => (a.completed ?? 0) - (b.completed ?? 0));
    const v = failed.find((f) => daemonMessage.includes(f.error)) ?? failed[0];
    if (!v) return undefined;
    const tail = [...v.logTail];
    if (v.partial) tail.push(v.partial.text);
    return { step: ref(v), logTail: tail.slice(-LOG_TAIL_LINES), message: v.error };
  }

  /** Each known vertex's statuses in this message, the last one per status ID. */
  private latestStatuses(statuses: WireStatusResponse['statuses']): Map<string, WireStatusResponse['statuses']> {
    const byVertex = new Map<string, WireStatusResponse['statuses']>();
    for (const s of statuses) {
      if (!this.vertexes.has(s.vertex)) continue;
      const list = byVertex.get(s.vertex) ?? [];
      const existing = list.findIndex((x) => x.ID === s.ID);
      if (existing >= 0) list[existing] = s;
      else list.push(s);
      byVertex.set(s.vertex, list);
    }
    return byVertex;
  }

  /** Completed vertexes first, by completion time; then the others in order of appearance (progressui's textMux). */
  private displayOrder(status: WireStatusResponse, newlyCompleted: ReadonlySet<string>): string[] {
    const touched = new Set<string>(status.vertexes.map((vertex) => vertex.digest));
    for (const s of status.statuses) if (this.vertexes.has(s.vertex)) touched.add(s.vertex);
    for (const l of status.logs) if (this.vertexes.has(l.vertex)) touched.add(l.vertex);
    for (const w of status.warnings) if (this.vertexes.has(w.vertex)) touched.add(w.vertex);
    const completedFirst = [...newlyCompleted].sort(
      (a, b) => (this.vertexes.get(a)?.completed ?? 0) - (this.vertexes.get(b)?.completed ?? 0),
    );
    return [...completedFirst, ...[...touched].filter((d) => !newlyCompleted.has(d))];
  }

  /** Numbers a vertex on its first start (a restart keeps its index). */
  private announce(v: VertexState): BuildEvent {
    if (v.index === 0) v.index = ++this.nextIndex;
    v.announced = true;
    return { type: 'step-started', ...ref(v), startedAt: v.started ?? 0 };
  }

  /** Flushes the vertex's last partial log line and reports how it ended. */
  private complete(v: VertexState, out: BuildEvent[]): void {
    this.addLog(v, v.decoder.end(), 'stdout', 0, out);
    v.decoder = new StringDecoder('utf8');
    if (v.partial) this.pushLine(v, v.partial.text, v.partial.stream, v.partial.elapsedMs, out);
    v.partial = undefined;
    v.finished = true;
    if (v.error !== '') {
      if (isCanceled(v.error)) out.push({ type: 'step-canceled', ...ref(v) });
      else out.push({ type: 'step-error', ...ref(v), message: v.error, logTail: [...v.logTail] });
    } else if (v.cached) {
      out.push({ type: 'step-cached', ...ref(v) });
    } else {
      out.push({ type: 'step-done', ...ref(v), durationMs: mergedDuration(v.intervals) });
    }
  }

  /** Returns true when this update completes the vertex. */
  private updateVertex(vertex: WireVertex): boolean {
    let v = this.vertexes.get(vertex.digest);
    if (!v) {
      v = {
        digest: vertex.digest,
        name: vertex.name,
        index: 0,
        cached: false,
        error: '',
        started: undefined,
        completed: undefined,
        intervals: [],
        announced: false,
        finished: false,
        partial: undefined,
        decoder: new StringDecoder('utf8'),
        logTail: [],
      };
      this.vertexes.set(vertex.digest, v);
    }
    // A duplicate initial vertex (no start time) must not reset a running one.
    if (v.started !== undefined && vertex.started === null) return false;
    if (vertex.name !== '') v.name = vertex.name;
    v.cached = vertex.cached;
    v.error = vertex.error;
    if (vertex.started) {
      const started = timestampToMs(vertex.started);
      if (v.started !== started) {
        if (v.finished && vertex.completed === null) {
          // The vertex runs again: report it as started again (same index), like progressui.
          v.finished = false;
          v.announced = false;
        }
        v.started = started;
      }
    }
    if (vertex.completed && v.started !== undefined) {
      const completed = timestampToMs(vertex.completed);
      const last = v.intervals.at(-1);
      if (!last || last[0] !== v.started) v.intervals.push([v.started, completed]);
      else last[1] = completed;
      v.completed = completed;
      return !v.finished;
    }
    return false;
  }

  private addLog(
    v: VertexState,
    text: string,
    stream: 'stdout' | 'stderr',
    elapsedMs: number,
    out: BuildEvent[],
  ): void {
    if (text === '') return;
    const parts = text.split('\n');
    for (let i = 0; i < parts.length; i++) {
      const part = parts[i] ?? '';
      const last = i === parts.length - 1;
      if (last) {
        if (part === '') break;
        if (v.partial) v.partial.text += part;
        else v.partial = { text: part, stream, elapsedMs };
        break;
      }
      if (v.partial) {
        const line = v.partial.text + part;
        const { stream: s, elapsedMs: e } = v.partial;
        v.partial = undefined;
        this.pushLine(v, line, s, e, out);
      } else {
        this.pushLine(v, part, stream, elapsedMs, out);
      }
    }
  }

  private pushLine(
    v: VertexState,
    text: string,
    stream: 'stdout' | 'stderr',
    elapsedMs: number,
    out: BuildEvent[],
  ): void {
    v.logTail.push(text);
    if (v.logTail.length > LOG_TAIL_LINES) v.logTail.shift();
    out.push({ type: 'step-log', ...ref(v), text, stream, elapsedMs: Math.max(0, elapsedMs) });
  }
}

function ref(v: VertexState): StepRef {
  return { index: v.index, digest: v.digest, name: v.name };
}

function statusEvents(v: VertexState, statuses: WireStatusResponse['statuses']): BuildEvent[] {
  return statuses.map((s) => {
    const end = s.completed ?? s.timestamp;
    return {
      type: 'step-status',
      ...ref(v),
      id: s.ID,
      current: s.current,
      total: s.total,
      timestamp: s.timestamp ? timestampToMs(s.timestamp) : (v.started ?? 0),
      durationMs: s.started && end ? timestampToMs(end) - timestampToMs(s.started) : undefined,
      completed: s.completed !== null,
    };
  });
}

function isCanceled(error: string): boolean {
  return error.endsWith('context canceled');
}

function mergedDuration(intervals: readonly [number, number][]): number {
  const sorted = [...intervals].sort((a, b) => a[0] - b[0]);
  let total = 0;
  let current: [number, number] | undefined;
  for (const [start, end] of sorted) {
    if (!current || start > current[1]) {
      if (current) total += current[1] - current[0];
      current = [start, end];
    } else {
      current[1] = Math.max(current[1], end);
    }
  }
  if (current) total += current[1] - current[0];
  return total;
}
