import { describe, expect, it } from 'vitest';
import { analyzeLayers, measurePaths, normalizeImagePath, type LayerEntry } from '@4pass/builder';

const file = (path: string, size: number): LayerEntry => ({ path, size, type: 'file', mode: 0o644 });
const dir = (path: string): LayerEntry => ({ path, size: 0, type: 'directory', mode: 0o755 });

describe('analyzeLayers', () => {
  it('stacks layers into the final tree with implicit parent directories', () => {
    const a = analyzeLayers([
      { entries: [file('/app/a.txt', 10), file('/app/sub/b.txt', 20)] },
      { entries: [file('/etc/c', 5)] },
    ]);
    expect([...a.tree.keys()].sort()).toEqual(['/app', '/app/a.txt', '/app/sub', '/app/sub/b.txt', '/etc', '/etc/c']);
    expect(a.tree.get('/app/sub')?.layer).toBe(-1);
    expect(a.totalBytes).toBe(35);
    expect(a.finalBytes).toBe(35);
    expect(a.wastedBytes).toBe(0);
    expect(a.efficiency).toBe(1);
    expect(a.layers.map((l) => l.sizeBytes)).toEqual([30, 5]);
  });

  it('counts an overwritten file as waste, attributed to the layer whose copy is hidden', () => {
    const a = analyzeLayers([
      { entries: [dir('/data'), file('/data/big.bin', 1000), file('/data/keep', 10)] },
      { entries: [file('/data/big.bin', 400)] },
    ]);
    expect(a.tree.get('/data/big.bin')).toMatchObject({ size: 400, layer: 1 });
    expect(a.wastedBytes).toBe(1000);
    expect(a.totalBytes).toBe(1410);
    expect(a.finalBytes).toBe(410);
    expect(a.efficiency).toBeCloseTo(410 / 1410);
    expect(a.layers[0]?.wastedBytes).toBe(1000);
    expect(a.layers[1]?.wastedBytes).toBe(0);
    expect(a.inefficiencies).toEqual([
      { path: '/data/big.bin', count: 1, wastedBytes: 1000, layers: [0], removed: false },
    ]);
  });

  it('applies .wh.<name> whiteouts to files and whole directories', () => {
    const a = analyzeLayers([
      {
        entries: [
          file('/usr/lib/pip/a.py', 100),
          file('/usr/lib/pip/b.py', 50),
          file('/usr/bin/pip', 7),
          file('/x', 1),
        ],
      },
      {
        entries: [
          { path: './usr/lib/.wh.pip', size: 0, type: 'file', mode: 0 },
          { path: 'usr/bin/.wh.pip', size: 0, type: 'file', mode: 0 },
        ],
      },
    ]);
    expect(a.tree.has('/usr/lib/pip')).toBe(false);
    expect(a.tree.has('/usr/lib/pip/a.py')).toBe(false);
    expect(a.tree.has('/usr/bin/pip')).toBe(false);
    expect(a.tree.has('/usr/lib')).toBe(true);
    expect(a.wastedBytes).toBe(157);
    expect(a.layers[1]).toMatchObject({ whiteoutCount: 2, sizeBytes: 0, entryCount: 2 });
    expect(a.inefficiencies.map((i) => [i.path, i.wastedBytes, i.removed])).toEqual([
      ['/usr/lib/pip/a.py', 100, true],
      ['/usr/lib/pip/b.py', 50, true],
      ['/usr/bin/pip', 7, true],
    ]);
  });

  it('applies an opaque whiteout: lower contents hidden, the same layer’s entries kept', () => {
    const a = analyzeLayers([
      { entries: [file('/cache/old1', 30), file('/cache/deep/old2', 20), file('/other', 1)] },
      {
        entries: [
          dir('/cache'),
          { path: '/cache/.wh..wh..opq', size: 0, type: 'file', mode: 0 },
          file('/cache/new', 5),
        ],
      },
    ]);
    expect([...a.tree.keys()].filter((p) => p.startsWith('/cache')).sort()).toEqual(['/cache', '/cache/new']);
    expect(a.wastedBytes).toBe(50);
    expect(a.finalBytes).toBe(6);
  });

  it('handles type changes: a directory replaced by a file and a file by a directory', () => {
    const a = analyzeLayers([
      { entries: [file('/a/x', 10), file('/b', 3)] },
      { entries: [file('/a', 1), file('/b/y', 2)] },
    ]);
    expect(a.tree.get('/a')).toMatchObject({ type: 'file', size: 1 });
    expect(a.tree.get('/b')).toMatchObject({ type: 'directory' });
    expect(a.tree.has('/a/x')).toBe(false);
    expect(a.wastedBytes).toBe(13);
  });

  it('re-adding a deleted path in a later layer counts the first copy as waste only once', () => {
    const a = analyzeLayers([
      { entries: [file('/f', 10)] },
      { entries: [{ path: '/.wh.f', size: 0, type: 'file', mode: 0 }] },
      { entries: [file('/f', 10)] },
    ]);
    expect(a.tree.get('/f')?.layer).toBe(2);
    expect(a.wastedBytes).toBe(10);
    expect(a.inefficiencies[0]).toMatchObject({ path: '/f', count: 1, removed: false });
  });

  it('ignores aufs metadata whiteouts and counts only regular file bytes', () => {
    const a = analyzeLayers([
      {
        entries: [
          { path: '/.wh..wh.plnk', size: 0, type: 'directory', mode: 0 },
          { path: '/bin/sh', size: 0, type: 'symlink', mode: 0o777, linkname: 'dash' },
          { path: '/bin/dash', size: 100, type: 'file', mode: 0o755 },
          { path: '/bin/dash2', size: 0, type: 'link', mode: 0o755, linkname: 'bin/dash' },
        ],
      },
    ]);
    expect(a.totalBytes).toBe(100);
    expect(a.tree.get('/bin/sh')).toMatchObject({ type: 'symlink', linkname: 'dash' });
    expect(a.tree.has('/.wh..wh.plnk')).toBe(false);
  });

  it('an empty image is fully efficient', () => {
    expect(analyzeLayers([]).efficiency).toBe(1);
    expect(analyzeLayers([{ entries: [] }]).layers).toEqual([
      { index: 0, sizeBytes: 0, entryCount: 0, whiteoutCount: 0, wastedBytes: 0 },
    ]);
  });
});

describe('measurePaths', () => {
  it('sums regular-file bytes under each path; a file path gives its size, a missing path 0', () => {
    const { tree } = analyzeLayers([
      {
        entries: [
          file('/opt/venv/lib/a', 10),
          file('/opt/venv/bin/b', 5),
          file('/opt/venvx', 99),
          file('/app/main.py', 3),
        ],
      },
    ]);
    expect(measurePaths(tree, ['/opt/venv/', '/app/main.py', '/nope', '/'])).toEqual({
      '/opt/venv': 15,
      '/app/main.py': 3,
      '/nope': 0,
      '/': 117,
    });
  });

  it('normalises paths', () => {
    expect(normalizeImagePath('./a//b/./c/')).toBe('/a/b/c');
    expect(normalizeImagePath('.')).toBe('/');
  });
});
