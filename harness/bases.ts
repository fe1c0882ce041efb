/** The official bases the test Dockerfiles name, and the local stand-ins the library falls back to without them. */
export const OFFICIAL_BASES = {
  'python:3.11-slim': '4pass-local/python:3.11-slim',
  'node:20-slim': '4pass-local/node:20-slim',
} as const;
