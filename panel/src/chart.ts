// uPlot bar charts, loaded only on the usage page.
import uPlot from "uplot";
import "uplot/dist/uPlot.min.css";

export function barChart(el: HTMLElement, labels: string[], requests: number[], tokens: number[], reqName: string, tokName: string) {
  const css = getComputedStyle(document.documentElement);
  const accent = css.getPropertyValue("--accent").trim() || "#2563eb";
  const accent2 = css.getPropertyValue("--accent2").trim() || "#d97706";
  const fg = css.getPropertyValue("--fg").trim() || "#111";
  const width = Math.max(280, Math.min(el.clientWidth || 600, 900));
  const xs = labels.map((_, i) => i);
  const bars = uPlot.paths.bars ? uPlot.paths.bars({ size: [0.6, 40] }) : undefined;
  const axis = { stroke: fg, grid: { stroke: "rgba(128,128,128,0.2)" }, ticks: { stroke: "rgba(128,128,128,0.4)" } };
  return new uPlot(
    {
      width,
      height: 220,
      scales: { x: { time: false }, tok: {} },
      legend: { show: true },
      series: [
        { label: "", value: (_u, v) => (v == null ? "" : labels[v] ?? "") },
        { label: reqName, stroke: accent, fill: accent + "99", paths: bars },
        { label: tokName, stroke: accent2, scale: "tok", width: 2 },
      ],
      axes: [
        { ...axis, values: (_u, splits) => splits.map((v) => labels[v] ?? "") },
        { ...axis },
        { ...axis, scale: "tok", side: 1, grid: { show: false } },
      ],
    },
    [xs, requests, tokens],
    el,
  );
}
