import { describe, expect, it } from 'vitest';
import {
  refusedPathsNotice,
  relativePathProblem,
  uploadNameProblem,
} from '../../src/core/file-names.ts';
import { isSafeRelativePath } from '../../src/sandbox/file-transfer.ts';

describe('the path rule for files a cell produced', () => {
  it.each(['..dots.txt', '...', '.env', 'reports/..q1.xlsx', 'a..b/c'])(
    'takes %j: leading dots are part of a plain name',
    (path) => {
      expect(relativePathProblem(path)).toBeUndefined();
      expect(isSafeRelativePath(path)).toBe(true);
    },
  );

  it.each(['..', '../x', 'a/..', 'a/../b', './a', 'a/./b', 'a//b', 'a/', '/etc/passwd', ''])(
    'refuses %j: a `.`, `..` or empty component, or an absolute path',
    (path) => {
      expect(relativePathProblem(path)).toBeDefined();
      expect(isSafeRelativePath(path)).toBe(false);
    },
  );

  it('takes an upload named ..dots.txt but not ..', () => {
    expect(uploadNameProblem('..dots.txt')).toBeUndefined();
    expect(uploadNameProblem('..')).toBeDefined();
  });

  it('names refused files in a bounded notice, control characters escaped', () => {
    expect(refusedPathsNotice([])).toBeUndefined();
    const notice = refusedPathsNotice(['../a', 'b/\u001b[31m/..', 'c/..', 'd/..', 'e/..']) ?? '';
    expect(notice).toContain('"../a"');
    expect(notice).toContain('\\u001b');
    expect(notice).not.toContain('\u001b');
    expect(notice).toContain('and 2 more not sent');
    expect(refusedPathsNotice(['../' + 'x'.repeat(5000)])?.length).toBeLessThan(300);
  });
});
