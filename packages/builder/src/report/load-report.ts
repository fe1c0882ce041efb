import { readFile } from 'node:fs/promises';
import { resolve } from 'node:path';
import { ConfigError } from '../errors/config-error.js';
import { formatPath } from '../config/load-config.js';
import { gateReportSchema, type GateReport } from './gate-report.js';

/** A schemaVersion 1 report is a version 2 report without the new optional sections (contents, import profile…). */
function upgradeV1(input: unknown): unknown {
  const v1 = typeof input === 'object' && input !== null && (input as { schemaVersion?: unknown }).schemaVersion === 1;
  return v1 ? { ...input, schemaVersion: 2 } : input;
}

/**
 * Parses and validates a JSON gate report, e.g. the baseline of an earlier run (version 2, or 1 read as 2).
 * @throws {ConfigError} naming the file and every schema problem with its path.
 */
export function parseGateReport(input: unknown, source = 'report'): GateReport {
  const parsed = gateReportSchema.safeParse(upgradeV1(input));
  if (!parsed.success)
    throw new ConfigError(
      source,
      parsed.error.issues.map((i) => ({ path: formatPath(i.path), message: i.message })),
    );
  return parsed.data;
}

/**
 * Reads a JSON gate report file, e.g. `--baseline FILE`.
 * @throws {ConfigError} when the file is missing, not JSON, or not a schemaVersion 1 or 2 report.
 */
export async function loadGateReport(file: string): Promise<GateReport> {
  const abs = resolve(file);
  let text: string;
  try {
    text = await readFile(abs, 'utf8');
  } catch (e) {
    throw new ConfigError(abs, [
      { path: '', message: (e as NodeJS.ErrnoException).code === 'ENOENT' ? 'file not found' : (e as Error).message },
    ]);
  }
  let json: unknown;
  try {
    json = JSON.parse(text);
  } catch (e) {
    throw new ConfigError(abs, [{ path: '', message: `not valid JSON: ${(e as Error).message}` }]);
  }
  return parseGateReport(json, abs);
}
