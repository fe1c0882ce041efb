/**
 * An absolute path inside an image, normalised: `/opt/venv/` → `/opt/venv`, `//a/./b` → `/a/b`, `./a//b/` → `/a/b`,
 * `.` or `` → `/`. Config paths and tar entry names both go through it, so they compare equal.
 */
export function normalizeImagePath(path: string): string {
  const parts: string[] = [];
  for (const seg of path.split('/')) {
    if (seg === '' || seg === '.') continue;
    if (seg === '..') parts.pop();
    else parts.push(seg);
  }
  return '/' + parts.join('/');
}
