/**
 * The pure part of `npm run bench:report`: reads bench/results.jsonl and draws the last runs
 * of each key figure as a small SVG chart, one small multiple per figure: a line over runs and
 * the target as a dashed line, so a regression is seen at a glance. Hand-written SVG: a few
 * polylines need no chart library.
 */

/** One line of bench/results.jsonl: what `npm run bench -- --json` appends. */
export interface BenchRun {
  readonly timestamp: string;
  readonly commit: string;
  readonly figures: Readonly<Record<string, unknown>>;
}

export interface Target {
  readonly op: '<' | '<=' | '>' | '>=';
  readonly value: number;
}

export interface ChartFigure {
  readonly name: string;
  readonly target: Target | undefined;
}

/** Reads the results file; lines that are not a run (a torn write, an edit) are skipped. */
export function parseResults(text: string): BenchRun[] {
  const runs: BenchRun[] = [];
  for (const line of text.split('\n')) {
    if (line.trim() === '') continue;
    try {
      const value = JSON.parse(line) as Record<string, unknown> | null;
      const { timestamp, commit, figures } = value ?? {};
      if (
        typeof timestamp === 'string' &&
        typeof commit === 'string' &&
        typeof figures === 'object' &&
        figures !== null
      ) {
        runs.push({ timestamp, commit, figures: figures as Record<string, unknown> });
      }
    } catch {
      // Not JSON: skipped, as documented above.
    }
  }
  return runs;
}

/** "target < 50", "target <= 1.5", "target >= 7" as a number to draw; else undefined. */
export function parseTarget(text: string | undefined): Target | undefined {
  const match = /^target (<=|>=|<|>) (\d+(?:\.\d+)?)$/.exec(text?.trim() ?? '');
  if (match === null) return undefined;
  return { op: match[1] as Target['op'], value: Number(match[2]) };
}

/**
 * The figures worth a small multiple: those with a numeric target, in the order given, that
 * at least one of the runs measured.
 */
export function keyFigures(
  runs: readonly BenchRun[],
  targets: Readonly<Record<string, string>>,
): ChartFigure[] {
  return Object.entries(targets)
    .map(([name, text]) => ({ name, target: parseTarget(text) }))
    .filter((f) => f.target !== undefined && runs.some((r) => numberOf(r, f.name) !== undefined));
}

function numberOf(run: BenchRun, name: string): number | undefined {
  const value = run.figures[name];
  return typeof value === 'number' && Number.isFinite(value) ? value : undefined;
}

const PANEL = { widthPx: 240, heightPx: 120, padPx: 34, columns: 3 };

/** The whole chart: one panel per figure, laid out in rows of three. */
export function drawChart(runs: readonly BenchRun[], figures: readonly ChartFigure[]): string {
  const rows = Math.max(1, Math.ceil(figures.length / PANEL.columns));
  const width = PANEL.widthPx * PANEL.columns;
  const height = PANEL.heightPx * rows;
  const panels = figures.map((figure, i) => {
    const x = (i % PANEL.columns) * PANEL.widthPx;
    const y = Math.floor(i / PANEL.columns) * PANEL.heightPx;
    return `<g class="panel" transform="translate(${x},${y})">${drawPanel(runs, figure)}</g>`;
  });
  const last = runs.at(-1);
  const title = last === undefined ? 'no runs yet' : `${runs.length} runs, last ${last.timestamp}`;
  return [
    `<svg xmlns="http://www.w3.org/2000/svg" width="${width}" height="${height + 20}" font-family="sans-serif" font-size="10">`,
    `<rect width="100%" height="100%" fill="white"/>`,
    `<text x="4" y="14">${escapeXml(title)}</text>`,
    `<g transform="translate(0,20)">${panels.join('')}</g>`,
    `</svg>`,
  ].join('\n');
}

/** One figure over the runs: its line, its points, its target dashed, the last value named. */
export function drawPanel(runs: readonly BenchRun[], figure: ChartFigure): string {
  const { widthPx, heightPx, padPx } = PANEL;
  const values = runs.map((r) => numberOf(r, figure.name));
  const known = values.filter((v): v is number => v !== undefined);
  const all = figure.target === undefined ? known : [...known, figure.target.value];
  const low = Math.min(0, ...all);
  const high = Math.max(...all, low + 1) * 1.1;
  const plotW = widthPx - 2 * padPx;
  const plotH = heightPx - 2 * padPx;
  const xAt = (i: number) =>
    padPx + (runs.length <= 1 ? plotW / 2 : (i * plotW) / (runs.length - 1));
  const yAt = (v: number) => padPx + plotH - ((v - low) / (high - low)) * plotH;
  const points = values
    .map((v, i) => (v === undefined ? undefined : `${fmt(xAt(i))},${fmt(yAt(v))}`))
    .filter((p): p is string => p !== undefined);
  const parts = [
    `<rect x="${padPx}" y="${padPx}" width="${plotW}" height="${plotH}" fill="none" stroke="#ccc"/>`,
    `<text x="${padPx}" y="${padPx - 8}">${escapeXml(figure.name)}</text>`,
    `<text x="${padPx - 2}" y="${fmt(yAt(low))}" text-anchor="end">${label(low)}</text>`,
    `<text x="${padPx - 2}" y="${fmt(yAt(high)) + 8}" text-anchor="end">${label(high)}</text>`,
  ];
  if (figure.target !== undefined) {
    const y = fmt(yAt(figure.target.value));
    parts.push(
      `<line class="target" x1="${padPx}" x2="${padPx + plotW}" y1="${y}" y2="${y}" stroke="#c00" stroke-dasharray="4 3"/>`,
    );
  }
  if (points.length > 0) {
    parts.push(
      `<polyline class="figure" points="${points.join(' ')}" fill="none" stroke="#036" stroke-width="1.5"/>`,
    );
    // A dot per run, so a figure measured once still shows.
    for (const point of points) {
      const [cx, cy] = point.split(',');
      parts.push(`<circle cx="${cx}" cy="${cy}" r="2" fill="#036"/>`);
    }
  }
  const lastValue = known.at(-1);
  if (lastValue !== undefined) {
    parts.push(
      `<text x="${padPx + plotW}" y="${heightPx - padPx + 14}" text-anchor="end">last ${fmt(lastValue)}</text>`,
    );
  }
  return parts.join('');
}

/** An axis label: three significant digits are enough to read a scale. */
function label(value: number): number {
  return Number(value.toPrecision(3));
}

function fmt(value: number): number {
  return Math.round(value * 100) / 100;
}

function escapeXml(text: string): string {
  return text.replace(/&/g, '&amp;').replace(/</g, '&lt;').replace(/>/g, '&gt;');
}
