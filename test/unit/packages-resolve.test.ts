import { describe, expect, it } from 'vitest';
import { Allowlist } from '../../src/packages/allowlist.ts';
import type { IndexFile } from '../../src/packages/index-page.ts';
import { resolve, type IndexReader, type ResolveOptions } from '../../src/packages/resolve.ts';
import { targetPlatform } from '../../src/packages/target-platform.ts';
import type { DistMetadata } from '../../src/packages/wheel-metadata.ts';

interface Release {
  readonly file: string;
  readonly requires?: readonly string[];
  readonly yanked?: boolean;
  readonly requiresPython?: string;
}

/** An index in memory: project name -> its files, each wheel with its Requires-Dist. */
function fakeIndex(
  projects: Record<string, readonly Release[]>,
): IndexReader & { asked: string[] } {
  const asked: string[] = [];
  const meta = new Map<string, DistMetadata>();
  const pages = new Map<string, IndexFile[]>();
  for (const [name, releases] of Object.entries(projects)) {
    pages.set(
      name,
      releases.map((r) => {
        const url = `http://index.test/files/${r.file}`;
        const version = r.file.split('-')[1] ?? '';
        meta.set(url, { name, version, requiresDist: r.requires ?? [] });
        return {
          fileName: r.file,
          url,
          yanked: r.yanked ?? false,
          ...(r.requiresPython === undefined ? {} : { requiresPython: r.requiresPython }),
        };
      }),
    );
  }
  return {
    asked,
    files: (name) => {
      asked.push(name);
      return Promise.resolve(pages.get(name) ?? []);
    },
    metadata: (file) => Promise.resolve(meta.get(file.url) as DistMetadata),
  };
}

function options(index: IndexReader, allow: string[], more: Partial<ResolveOptions> = {}) {
  return {
    index,
    allow: new Allowlist(allow),
    target: targetPlatform('3.13.5', 'x64'),
    imagePackages: new Set<string>(['numpy']),
    installed: new Map<string, string>(),
    ...more,
  };
}

const picked = (r: Awaited<ReturnType<typeof resolve>>) =>
  r.picks.map((p) => `${p.name}==${p.version}`).sort();

describe('resolving requests greedily', () => {
  it('takes the newest version that fits every specifier, the allowlist pin and the image', async () => {
    const index = fakeIndex({
      app: [
        { file: 'app-1.0-py3-none-any.whl', requires: ['lib>=1'] },
        {
          file: 'app-2.0-py3-none-any.whl',
          requires: ['lib>=1,<3', 'numpy', 'winonly; sys_platform == "win32"'],
        },
        { file: 'app-3.0rc1-py3-none-any.whl' },
        { file: 'app-2.5-py3-none-any.whl', yanked: true },
        { file: 'app-2.4-py3-none-any.whl', requiresPython: '<3.10' },
      ],
      lib: [
        { file: 'lib-2.0-cp313-cp313-manylinux_2_17_x86_64.whl' },
        { file: 'lib-2.9-cp313-cp313-manylinux_2_99_x86_64.whl' },
        { file: 'lib-3.0-py3-none-any.whl' },
      ],
    });
    const result = await resolve(['app'], options(index, ['app', 'lib<2.5']));
    expect(result.refused).toEqual([]);
    expect(picked(result)).toEqual(['app==2.0', 'lib==2.0']);
    // numpy is the image's; the Windows-only dependency does not apply.
    expect(index.asked).not.toContain('numpy');
    expect(index.asked).not.toContain('winonly');
  });

  it('installs the dependencies an extra asks for', async () => {
    const index = fakeIndex({
      app: [{ file: 'app-1.0-py3-none-any.whl', requires: ['fast; extra == "speed"'] }],
      fast: [{ file: 'fast-1.0-py3-none-any.whl' }],
    });
    const plain = await resolve(['app'], options(index, ['*']));
    expect(picked(plain)).toEqual(['app==1.0']);
    const withExtra = await resolve(['app[speed]'], options(index, ['*']));
    expect(picked(withExtra)).toEqual(['app==1.0', 'fast==1.0']);
  });

  it('refuses a conflict with both sides named, never backtracking, and keeps the other request', async () => {
    const index = fakeIndex({
      one: [{ file: 'one-1.0-py3-none-any.whl', requires: ['lib==1.0'] }],
      two: [{ file: 'two-1.0-py3-none-any.whl', requires: ['lib>=2'] }],
      lib: [{ file: 'lib-1.0-py3-none-any.whl' }, { file: 'lib-2.0-py3-none-any.whl' }],
    });
    const result = await resolve(['one', 'two'], options(index, ['*']));
    expect(picked(result)).toEqual(['lib==1.0', 'one==1.0']);
    expect(result.refused).toEqual([
      {
        name: 'lib',
        reason: 'version conflict: lib 1.0 was chosen, but two needs lib>=2',
        offAllowlist: false,
      },
      { name: 'two', reason: 'it needs lib, which was refused', offAllowlist: false },
    ]);
  });

  it('says when the allowlist pin alone keeps a version out', async () => {
    const index = fakeIndex({ tinytable: [{ file: 'tinytable-1.3-py3-none-any.whl' }] });
    const result = await resolve(['tinytable'], options(index, ['tinytable==1.2']));
    expect(result.refused).toEqual([
      {
        name: 'tinytable',
        reason: 'the allowlist allows only tinytable==1.2, and no such wheel fits the request',
        offAllowlist: true,
      },
    ]);
  });

  it('skips what this session already installed, when it satisfies the request', async () => {
    const index = fakeIndex({ lib: [{ file: 'lib-2.0-py3-none-any.whl' }] });
    const installed = new Map([['lib', '2.0']]);
    const result = await resolve(['lib'], options(index, ['lib'], { installed }));
    expect(result.present).toEqual(['lib']);
    expect(result.picks).toEqual([]);
  });

  it('refuses a name that is not a requirement, and one the index does not have', async () => {
    const result = await resolve(['x @ http://evil/x.whl', 'ghost'], options(fakeIndex({}), ['*']));
    expect(result.refused.map((r) => r.name)).toEqual(['x @ http://evil/x.whl', 'ghost']);
    expect(result.refused[1]?.reason).toBe('the package index has no package named ghost');
  });
});
