import * as vega from 'vega';
import { compile, type TopLevelSpec } from 'vega-lite';

// Charts for report.html: Vega-Lite specs rendered to SVG strings here, headless (no browser, no
// canvas), as the rank stage renders its heatmaps, so the page shows them without any script.

export interface Point { x: number; y: number; series: string }

const WIDTH = 520;
const HEIGHT = 200;
const FONT = 'DejaVu Sans, Verdana, sans-serif';

/** Vega-Lite -> Vega -> SVG without a canvas (text widths are Vega's estimate). */
export async function renderSvg(spec: TopLevelSpec): Promise<string> {
  const view = new vega.View(vega.parse(compile(spec).spec), { renderer: 'none' });
  try {
    return await view.toSVG();
  } finally {
    view.finalize();
  }
}

const base = (title: string, subtitle?: string) => ({
  $schema: 'https://vega.github.io/schema/vega-lite/v6.json',
  title: { text: title, ...(subtitle ? { subtitle } : {}), anchor: 'start' as const, fontSize: 13, subtitleFontSize: 11, subtitleColor: '#555' },
  config: { font: FONT, view: { stroke: null }, axis: { labelFontSize: 10, titleFontSize: 11 }, legend: { labelFontSize: 10, titleFontSize: 11, labelLimit: 240 } },
});

/** One line per series over steps (reward curves, KL, clip ratios, entropy, lengths, losses). */
export function lineChartSpec(title: string, points: Point[], o: { xTitle?: string; yTitle?: string; subtitle?: string } = {}): TopLevelSpec {
  const single = new Set(points.map((p) => p.series)).size === 1;
  return {
    ...base(title, o.subtitle),
    data: { values: points },
    width: WIDTH, height: HEIGHT,
    mark: { type: 'line', point: points.length <= 60, strokeWidth: 1.8 },
    encoding: {
      x: { field: 'x', type: 'quantitative', title: o.xTitle ?? 'step', axis: { tickMinStep: 1 } },
      y: { field: 'y', type: 'quantitative', title: o.yTitle ?? null, scale: { zero: false } },
      ...(single ? {} : { color: { field: 'series', type: 'nominal', title: null, legend: { orient: 'bottom', columns: 3 } } }),
    },
  } as TopLevelSpec;
}

export interface IntervalPoint { reward: string; policy: string; mean: number; lo: number; hi: number }

/** Means with their confidence intervals: per reward, before and after side by side (points and error bars). */
export function intervalChartSpec(title: string, points: IntervalPoint[], subtitle?: string): TopLevelSpec {
  const rewards = [...new Set(points.map((p) => p.reward))];
  return {
    ...base(title, subtitle),
    data: { values: points },
    width: WIDTH, height: { step: 22 },
    encoding: {
      y: { field: 'reward', type: 'nominal', sort: rewards, title: null },
      yOffset: { field: 'policy' },
      color: { field: 'policy', type: 'nominal', title: null, scale: { domain: ['before', 'after', 'after - before'], range: ['#7f7f7f', '#1f77b4', '#d62728'] }, legend: { orient: 'bottom' } },
    },
    layer: [
      { mark: { type: 'rule', strokeWidth: 2 }, encoding: { x: { field: 'lo', type: 'quantitative', title: 'mean with interval', scale: { zero: false } }, x2: { field: 'hi' } } },
      { mark: { type: 'point', filled: true, size: 60 }, encoding: { x: { field: 'mean', type: 'quantitative' } } },
    ],
  } as TopLevelSpec;
}

/** The paired differences with their intervals and a zero line: an interval that crosses it may be noise. */
export function differenceChartSpec(title: string, points: IntervalPoint[], subtitle?: string): TopLevelSpec {
  const rewards = [...new Set(points.map((p) => p.reward))];
  return {
    ...base(title, subtitle),
    width: WIDTH, height: { step: 26 },
    layer: [
      { data: { values: [{ zero: 0 }] }, mark: { type: 'rule', color: '#999', strokeDash: [4, 3] }, encoding: { x: { field: 'zero', type: 'quantitative' } } },
      {
        data: { values: points },
        mark: { type: 'rule', strokeWidth: 2, color: '#d62728' },
        encoding: { y: { field: 'reward', type: 'nominal', sort: rewards, title: null }, x: { field: 'lo', type: 'quantitative', title: 'after - before' }, x2: { field: 'hi' } },
      },
      {
        data: { values: points },
        mark: { type: 'point', filled: true, size: 70, color: '#d62728' },
        encoding: { y: { field: 'reward', type: 'nominal', sort: rewards }, x: { field: 'mean', type: 'quantitative' } },
      },
    ],
  } as TopLevelSpec;
}

export interface BarPoint { group: string; series: string; value: number }

/** Grouped bars (retrieval metrics by order, preference classes predicted vs labelled). */
export function barChartSpec(title: string, points: BarPoint[], o: { yTitle?: string; subtitle?: string; max?: number } = {}): TopLevelSpec {
  const groups = [...new Set(points.map((p) => p.group))];
  return {
    ...base(title, o.subtitle),
    data: { values: points },
    width: { step: 26 }, height: HEIGHT,
    mark: { type: 'bar' },
    encoding: {
      x: { field: 'group', type: 'nominal', sort: groups, title: null, axis: { labelAngle: 0 } },
      xOffset: { field: 'series' },
      y: { field: 'value', type: 'quantitative', title: o.yTitle ?? null, ...(o.max !== undefined ? { scale: { domain: [0, o.max] } } : {}) },
      color: { field: 'series', type: 'nominal', title: null, legend: { orient: 'bottom' } },
      tooltip: [{ field: 'group' }, { field: 'series' }, { field: 'value', format: '.3f' }],
    },
  } as TopLevelSpec;
}
