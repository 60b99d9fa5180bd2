import { execFileSync } from 'node:child_process';
import { appendFileSync } from 'node:fs';
import type { BenchRun } from './report-chart.ts';

/** Kept out of git (.gitignore): one JSON line per `npm run bench -- --json`. */
export const RESULTS_FILE = new URL('./results.jsonl', import.meta.url);

/** The commit measured, marked when the tree had changes (the figures then are not its). */
function currentCommit(): string {
  try {
    const head = execFileSync('git', ['rev-parse', 'HEAD'], { encoding: 'utf8' }).trim();
    const dirty = execFileSync('git', ['status', '--porcelain', '--untracked-files=no'], {
      encoding: 'utf8',
    });
    return dirty.trim() === '' ? head : `${head}-dirty`;
  } catch {
    return 'unknown';
  }
}

/** Appends this run's figures to bench/results.jsonl; returns the line's run. */
export function appendResults(figures: Readonly<Record<string, unknown>>): BenchRun {
  const run: BenchRun = { timestamp: new Date().toISOString(), commit: currentCommit(), figures };
  appendFileSync(RESULTS_FILE, `${JSON.stringify(run)}\n`);
  return run;
}
