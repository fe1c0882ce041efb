/** Small fetch helpers for the API served by the same origin. */

export class ApiError extends Error {
  constructor(path, status) {
    super(`${path} answered ${status}`);
    this.name = 'ApiError';
    this.path = path;
    this.status = status;
  }
}

async function getJson(path, { signal } = {}) {
  const response = await fetch(path, { headers: { Accept: 'application/json' }, signal });
  const body = await response.json().catch(() => null);
  if (!response.ok) throw new ApiError(path, response.status);
  return body;
}

export const fetchQuotes = (options) => getJson('/api/quotes', options);
export const fetchInfo = (options) => getJson('/api/info', options);

/** `/health` answers 503 while the service starts: report that as a status, not as an error. */
export async function fetchHealth({ signal } = {}) {
  try {
    const response = await fetch('/health', { signal });
    const body = await response.json().catch(() => ({}));
    return { ok: response.ok, status: body.status ?? String(response.status) };
  } catch {
    return { ok: false, status: 'unreachable' };
  }
}
