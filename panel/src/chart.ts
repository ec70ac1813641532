// uPlot charts, loaded only on the usage page. Colours come from the page's
// tokens, so both themes read well.
import uPlot from "uplot";
import "uplot/dist/uPlot.min.css";

/** Series colours: distinguishable in both themes, the accent first. */
const palette = ["--accent", "--accent2", "--good", "--syn-keyword", "--danger", "--syn-number", "--muted"];

export function colour(i: number): string {
  const css = getComputedStyle(document.documentElement);
  return css.getPropertyValue(palette[i % palette.length]!).trim() || "#888";
}

function axes(labels: string[], twoScales: boolean): uPlot.Axis[] {
  const css = getComputedStyle(document.documentElement);
  const fg = css.getPropertyValue("--muted").trim() || "#555";
  const grid = { stroke: "rgba(128,128,128,0.2)", width: 1 };
  const axis = { stroke: fg, grid, ticks: { stroke: "rgba(128,128,128,0.4)", width: 1 }, font: "11px system-ui, sans-serif" };
  const out: uPlot.Axis[] = [
    { ...axis, values: (_u, splits) => splits.map((v) => labels[v] ?? "") },
    { ...axis, size: 50 },
  ];
  if (twoScales) out.push({ ...axis, scale: "tok", side: 1, grid: { show: false }, size: 60 });
  return out;
}

function width(el: HTMLElement): number {
  return Math.max(240, Math.min(el.clientWidth || 600, 1200));
}

/** Requests as bars and tokens as a line on a second scale, over labels. */
export function barChart(el: HTMLElement, labels: string[], requests: number[], tokens: number[], reqName: string, tokName: string) {
  const xs = labels.map((_, i) => i);
  const bars = uPlot.paths.bars ? uPlot.paths.bars({ size: [0.6, 40] }) : undefined;
  const a = colour(0);
  return new uPlot(
    {
      width: width(el),
      height: 220,
      scales: { x: { time: false }, tok: {} },
      legend: { show: false },
      cursor: { show: true },
      series: [
        {},
        { label: reqName, stroke: a, fill: a + "99", paths: bars },
        { label: tokName, stroke: colour(1), scale: "tok", width: 2 },
      ],
      axes: axes(labels, true),
    },
    [xs, requests, tokens],
    el,
  );
}

/** One line per series over labels (e.g. requests per model per hour). */
export function lineChart(el: HTMLElement, labels: string[], series: { name: string; values: number[] }[]) {
  const xs = labels.map((_, i) => i);
  // A line needs two points: with fewer time buckets, large dots, centred.
  const few = labels.length < 3;
  return new uPlot(
    {
      width: width(el),
      height: 220,
      scales: { x: { time: false, range: few ? [-0.6, labels.length - 0.4] : undefined } },
      legend: { show: false },
      series: [
        {},
        ...series.map((s, i) => ({
          label: s.name,
          stroke: colour(i),
          width: 2,
          points: { show: !few && labels.length < 40 },
          ...(few ? { points: { show: true, size: 10, fill: colour(i) } } : {}),
        })),
      ],
      axes: axes(labels, false),
    },
    [xs, ...series.map((s) => s.values)],
    el,
  );
}
