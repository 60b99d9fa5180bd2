/**
 * `npm run bench:report [-- --last 20]`: draws the last runs in bench/results.jsonl (appended
 * by `npm run bench -- --json`) as bench/report.svg, one small multiple per key figure, and
 * prints where it went.
 */
import { readFile, writeFile } from 'node:fs/promises';
import { fileURLToPath } from 'node:url';
import { drawChart, keyFigures, parseResults } from './report-chart.ts';
import { RESULTS_FILE } from './results-log.ts';
import { TARGETS } from './targets.ts';

const lastIndex = process.argv.indexOf('--last');
const last = lastIndex === -1 ? 20 : Number(process.argv[lastIndex + 1]);
if (!Number.isInteger(last) || last < 1) {
  process.stderr.write('bench:report: --last takes a whole number of runs, 1 or more\n');
  process.exit(1);
}

const text = await readFile(RESULTS_FILE, 'utf8').catch(() => '');
const runs = parseResults(text).slice(-last);
if (runs.length === 0) {
  process.stderr.write(
    `bench:report: no runs in ${fileURLToPath(RESULTS_FILE)} yet; run \`npm run bench -- --json\` first\n`,
  );
  process.exit(1);
}
const out = new URL('./report.svg', import.meta.url);
await writeFile(out, drawChart(runs, keyFigures(runs, TARGETS)));
process.stdout.write(`bench:report: ${runs.length} run(s) drawn to ${fileURLToPath(out)}\n`);
