import { describe, expect, it } from 'vitest';
import {
  drawChart,
  drawPanel,
  keyFigures,
  parseResults,
  parseTarget,
  type BenchRun,
} from '../../bench/report-chart.ts';

const run = (figures: Record<string, unknown>, i = 0): BenchRun => ({
  timestamp: `2026-11-29T0${i}:00:00.000Z`,
  commit: `c${i}`,
  figures,
});

describe('bench report: reading bench/results.jsonl', () => {
  it('reads one run per line and skips lines that are not a run', () => {
    const text = [
      JSON.stringify(run({ warm_cell_p50_ms: 0.8 }, 1)),
      '{"torn": ',
      JSON.stringify({ timestamp: 'x', figures: {} }),
      '',
      JSON.stringify(run({ warm_cell_p50_ms: 0.9 }, 2)),
    ].join('\n');
    const runs = parseResults(text);
    expect(runs.map((r) => r.commit)).toEqual(['c1', 'c2']);
    expect(runs[1]?.figures).toEqual({ warm_cell_p50_ms: 0.9 });
  });

  it('reads numeric targets and leaves targets in words alone', () => {
    expect(parseTarget('target < 50')).toEqual({ op: '<', value: 50 });
    expect(parseTarget('target <= 1.5')).toEqual({ op: '<=', value: 1.5 });
    expect(parseTarget('target >= 7')).toEqual({ op: '>=', value: 7 });
    expect(parseTarget('target < the edit interval')).toBeUndefined();
    expect(parseTarget(undefined)).toBeUndefined();
  });

  it('charts the figures that have a numeric target and were measured, in target order', () => {
    const runs = [run({ b: 3, c: 'n/a', d: 1 }), run({ a: 2 })];
    const figures = keyFigures(runs, {
      a: 'target < 5',
      b: 'target >= 1',
      c: 'target < 1',
      d: 'target < the edit interval',
      e: 'target < 9',
    });
    expect(figures.map((f) => f.name)).toEqual(['a', 'b']);
  });
});

describe('bench report: drawing', () => {
  it('draws one panel per figure with a line over the runs and the target dashed', () => {
    const runs = [run({ x_ms: 10 }, 1), run({ x_ms: 20 }, 2), run({ x_ms: 15 }, 3)];
    const svg = drawChart(runs, [
      { name: 'x_ms', target: { op: '<', value: 50 } },
      { name: 'y_ms', target: { op: '<', value: 5 } },
    ]);
    expect(svg.startsWith('<svg')).toBe(true);
    expect(svg).toContain('3 runs, last 2026-11-29T03:00:00.000Z');
    expect(svg.match(/<g class="panel"/g)).toHaveLength(2);
    const polyline = /<polyline class="figure" points="([^"]+)"/.exec(svg)?.[1] ?? '';
    expect(polyline.split(' ')).toHaveLength(3);
    expect(svg.match(/class="target"[^>]*stroke-dasharray/g)).toHaveLength(2);
    expect(svg).toContain('last 15');
  });

  it('puts a higher value higher in the panel, and the target where its value is', () => {
    const panel = drawPanel([run({ f: 10 }, 1), run({ f: 30 }, 2)], {
      name: 'f',
      target: { op: '<', value: 20 },
    });
    const points = (/points="([^"]+)"/.exec(panel)?.[1] ?? '')
      .split(' ')
      .map((p) => p.split(',').map(Number));
    const [first, second] = points;
    expect(first?.[1]).toBeGreaterThan(second?.[1] ?? Infinity);
    const targetY = Number(/class="target"[^>]*y1="([\d.]+)"/.exec(panel)?.[1]);
    expect(targetY).toBeLessThan(first?.[1] ?? 0);
    expect(targetY).toBeGreaterThan(second?.[1] ?? Infinity);
  });

  it('skips runs that did not measure a figure and escapes names', () => {
    const panel = drawPanel([run({ 'a<b': 1 }, 1), run({}, 2), run({ 'a<b': 2 }, 3)], {
      name: 'a<b',
      target: undefined,
    });
    expect(panel).toContain('a&lt;b');
    expect(panel).not.toContain('class="target"');
    expect(/points="([^"]+)"/.exec(panel)?.[1]?.split(' ')).toHaveLength(2);
  });
});
