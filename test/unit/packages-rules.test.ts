import { describe, expect, it } from 'vitest';
import { Allowlist } from '../../src/packages/allowlist.ts';
import { parseHtmlPage, parseJsonPage } from '../../src/packages/index-page.ts';
import { evaluateMarker, MarkerError } from '../../src/packages/markers.ts';
import { parseRequirement } from '../../src/packages/requirement.ts';
import { markerEnvironment, targetPlatform } from '../../src/packages/target-platform.ts';
import { parseMetadata } from '../../src/packages/wheel-metadata.ts';
import { parseWheelName, wheelScore } from '../../src/packages/wheel-tags.ts';

const x86 = targetPlatform('3.13.5', 'x64');
const arm = targetPlatform('3.13.5', 'arm64');

function fits(fileName: string, target = x86): boolean {
  const wheel = parseWheelName(fileName);
  return wheel !== undefined && wheelScore(wheel, target) !== undefined;
}

describe('wheel tags for the image (CPython 3.13, glibc 2.41)', () => {
  it.each([
    'sbtiny-1.0-py3-none-any.whl',
    'six-1.16.0-py2.py3-none-any.whl',
    'numpy-2.1.0-cp313-cp313-manylinux_2_17_x86_64.manylinux2014_x86_64.whl',
    'cryptography-43.0.0-cp39-abi3-manylinux_2_28_x86_64.whl',
    'old-1.0-cp313-cp313-manylinux1_x86_64.whl',
    'local-1.0-cp313-cp313-linux_x86_64.whl',
    'build-1.0-1-py313-none-any.whl',
  ])('takes %s', (name) => {
    expect(fits(name)).toBe(true);
  });

  it.each([
    'numpy-2.1.0-cp312-cp312-manylinux_2_17_x86_64.whl',
    'future-1.0-cp314-cp314-manylinux_2_17_x86_64.whl',
    'musl-1.0-cp313-cp313-musllinux_1_2_x86_64.whl',
    'newglibc-1.0-cp313-cp313-manylinux_2_42_x86_64.whl',
    'mac-1.0-cp313-cp313-macosx_11_0_arm64.whl',
    'win-1.0-cp313-cp313-win_amd64.whl',
    'py2-1.0-py2-none-any.whl',
    'abi3future-1.0-cp314-abi3-manylinux_2_17_x86_64.whl',
    'free-1.0-cp313-cp313t-manylinux_2_17_x86_64.whl',
    'sdist-1.0.tar.gz',
  ])('refuses %s', (name) => {
    expect(fits(name)).toBe(false);
  });

  it('follows the architecture of the worker host', () => {
    const name = 'numpy-2.1.0-cp313-cp313-manylinux_2_17_aarch64.whl';
    expect(fits(name, x86)).toBe(false);
    expect(fits(name, arm)).toBe(true);
  });

  it('prefers a wheel built for the exact interpreter over abi3 and pure Python', () => {
    const score = (n: string) => {
      const wheel = parseWheelName(n);
      return wheel === undefined ? -1 : (wheelScore(wheel, x86) ?? -1);
    };
    const exact = score('a-1-cp313-cp313-manylinux_2_17_x86_64.whl');
    const abi3 = score('a-1-cp39-abi3-manylinux_2_17_x86_64.whl');
    const pure = score('a-1-py3-none-any.whl');
    expect(exact).toBeGreaterThan(abi3);
    expect(abi3).toBeGreaterThan(pure);
  });

  it('normalises the name and keeps the version', () => {
    expect(parseWheelName('Some_Name-2.0-py3-none-any.whl')).toMatchObject({
      name: 'some-name',
      version: '2.0',
    });
  });
});

describe('environment markers', () => {
  const env = markerEnvironment(x86);
  it.each([
    ['', true],
    ['python_version >= "3.8"', true],
    ['python_version < "3.10"', false],
    ['python_full_version >= "3.13.1"', true],
    ['sys_platform == "win32"', false],
    ['sys_platform == "linux" and platform_machine == "x86_64"', true],
    ['os_name == "nt" or (implementation_name == "cpython" and platform_system == "Linux")', true],
    ['"linux" in sys_platform', true],
    ['platform_machine not in "aarch64 arm64"', true],
    ["python_version > '3.9' and extra == 'test'", false],
  ])('%s is %s', (marker, expected) => {
    expect(evaluateMarker(marker, env)).toBe(expected);
  });

  it('matches an extra by its normalised name', () => {
    expect(evaluateMarker('extra == "Fast_Math"', markerEnvironment(x86, 'fast-math'))).toBe(true);
  });

  it('refuses what it cannot read', () => {
    expect(() => evaluateMarker('python_version >=', env)).toThrow(MarkerError);
    expect(() => evaluateMarker('favourite_colour == "blue"', env)).toThrow(MarkerError);
  });
});

describe('requirements and specifiers', () => {
  it('reads names, extras, specifiers and markers', () => {
    expect(parseRequirement('Tiny_Table[fast, io]>=1.2,<2 ; python_version>"3.8"')).toEqual({
      name: 'tiny-table',
      extras: ['fast', 'io'],
      specifier: '>=1.2,<2',
      marker: 'python_version>"3.8"',
    });
    expect(parseRequirement('sbdep (>=0.1)')).toMatchObject({ name: 'sbdep', specifier: '>=0.1' });
  });

  it('refuses URLs, shell text and bad specifiers with a reason', () => {
    expect(parseRequirement('evil @ https://example.com/x.whl')).toHaveProperty('problem');
    expect(parseRequirement('; rm -rf /')).toHaveProperty('problem');
    expect(parseRequirement('numpy>>1')).toHaveProperty('problem');
  });
});

describe('allowlist', () => {
  it('allows listed names (normalised) and honours their pins', () => {
    const allow = new Allowlist(['tinytable==1.2', 'Some_Name']);
    expect(allow.allowsName('some-name')).toBe(true);
    expect(allow.allows('tinytable', '1.2')).toBe(true);
    expect(allow.allows('tinytable', '1.3')).toBe(false);
    expect(allow.allowsName('requests')).toBe(false);
  });

  it('allows any name with *, and an approved name beyond the list', () => {
    expect(new Allowlist(['*']).allowsName('anything')).toBe(true);
    const approved = new Allowlist(['tabulate'], ['SBDep']);
    expect(approved.allowsName('sbdep')).toBe(true);
    expect(new Allowlist([]).allowsName('tabulate')).toBe(false);
  });
});

describe('index pages and metadata', () => {
  it('reads a PEP 503 page: links, hashes, requires-python, PEP 658 metadata, yanked', () => {
    const html = `<!DOCTYPE html><html><body>
      <a href="../../files/sbtiny-1.0-py3-none-any.whl#sha256=${'a'.repeat(64)}" data-requires-python="&gt;=3.9" data-dist-info-metadata="sha256=${'b'.repeat(64)}">sbtiny-1.0-py3-none-any.whl</a>
      <a href="https://mirror.example/sbtiny-0.9.tar.gz" data-yanked="">sbtiny-0.9.tar.gz</a>
    </body></html>`;
    const files = parseHtmlPage(html, 'http://127.0.0.1:9/simple/sbtiny/');
    expect(files).toEqual([
      {
        fileName: 'sbtiny-1.0-py3-none-any.whl',
        url: 'http://127.0.0.1:9/files/sbtiny-1.0-py3-none-any.whl',
        sha256: 'a'.repeat(64),
        requiresPython: '>=3.9',
        metadata: { sha256: 'b'.repeat(64) },
        yanked: false,
      },
      {
        fileName: 'sbtiny-0.9.tar.gz',
        url: 'https://mirror.example/sbtiny-0.9.tar.gz',
        yanked: true,
      },
    ]);
  });

  it('reads a PEP 691 JSON page', () => {
    const files = parseJsonPage(
      {
        files: [
          {
            filename: 'sbdep-2.0-py3-none-any.whl',
            url: '/f/sbdep-2.0-py3-none-any.whl',
            hashes: { sha256: 'C'.repeat(64) },
            'core-metadata': true,
            yanked: 'broken',
          },
        ],
      },
      'http://127.0.0.1:9/simple/sbdep/',
    );
    expect(files).toEqual([
      {
        fileName: 'sbdep-2.0-py3-none-any.whl',
        url: 'http://127.0.0.1:9/f/sbdep-2.0-py3-none-any.whl',
        sha256: 'c'.repeat(64),
        metadata: {},
        yanked: true,
      },
    ]);
  });

  it('reads METADATA headers, folded lines included, and ignores the description', () => {
    const text =
      'Metadata-Version: 2.1\nName: SbTiny\nVersion: 1.0\nRequires-Python: >=3.9\nRequires-Dist: sbdep>=1.0\nRequires-Dist: pytest;\n extra == "test"\n\nRequires-Dist: not-a-header\n';
    expect(parseMetadata(text)).toEqual({
      name: 'sbtiny',
      version: '1.0',
      requiresPython: '>=3.9',
      requiresDist: ['sbdep>=1.0', 'pytest; extra == "test"'],
    });
  });
});
