import type { Schemas } from "@cli-proxy-api/management-client";
import { useEffect, useRef, useState } from "preact/hooks";
import { download, explain, type Explained } from "../api";
import { t, useLang, type TKey } from "../i18n";
import { api, toast } from "../store";
import { Empty, Loading, Modal, Page, Problem, Time, count, fmtDate, fmtNum, fmtUSD, locale } from "../ui";

type Usage = Schemas["UsageResponse"];
type Stats = Schemas["UsageKeyStats"];
type Detail = Schemas["UsageDetail"];
type Series = Schemas["UsageSeries"];

/** How many recent requests per model the page asks for (drill-down, latency). */
const DETAILS = 200;

type Range = "hour" | "day" | "week" | "month" | "all" | "custom";
const ranges: { id: Range; label: TKey; hours: number }[] = [
  { id: "hour", label: "rangeHour", hours: 1 },
  { id: "day", label: "rangeDay", hours: 24 },
  { id: "week", label: "rangeWeek", hours: 24 * 7 },
  { id: "month", label: "rangeMonth", hours: 24 * 30 },
  { id: "all", label: "rangeAll", hours: 0 },
  { id: "custom", label: "rangeCustom", hours: 0 },
];

/** A datetime-local input's value for a date (local time, minutes). */
function localInput(d: Date): string {
  const p = (n: number) => String(n).padStart(2, "0");
  return `${d.getFullYear()}-${p(d.getMonth() + 1)}-${p(d.getDate())}T${p(d.getHours())}:${p(d.getMinutes())}`;
}

function Chart(props: { title: string; testid: string; controls?: preact.JSX.Element; draw: (el: HTMLElement, m: typeof import("../chart")) => { destroy(): void }; deps: string; legend: { name: string; i: number }[]; table: preact.JSX.Element }) {
  const host = useRef<HTMLDivElement>(null);
  const [colours, setColours] = useState<string[]>([]);
  useEffect(() => {
    let plot: { destroy(): void } | null = null;
    let alive = true;
    void import("../chart").then((m) => {
      if (!alive || !host.current) return;
      plot = props.draw(host.current, m);
      setColours(props.legend.map((l) => m.colour(l.i)));
    });
    return () => {
      alive = false;
      plot?.destroy();
    };
  }, [props.deps]);
  return (
    <figure class="chart" data-testid={props.testid}>
      <figcaption>{props.title}</figcaption>
      {props.controls}
      <div ref={host} aria-hidden="true" />
      <div class="legend" aria-hidden="true">
        {props.legend.map((l, i) => (
          <span key={l.name}>
            <i style={{ background: colours[i] ?? "transparent" }} />
            {l.name}
          </span>
        ))}
      </div>
      <div class="sr-only">{props.table}</div>
    </figure>
  );
}

function pct(sorted: number[], p: number): number {
  if (!sorted.length) return 0;
  return sorted[Math.min(sorted.length - 1, Math.floor((p / 100) * sorted.length))]!;
}

interface Row extends Detail {
  api: string;
  model: string;
}

function flatten(u: Usage["usage"]): Row[] {
  const out: Row[] = [];
  for (const [apiName, a] of Object.entries(u.apis ?? {}))
    for (const [model, m] of Object.entries(a.models ?? {})) for (const d of m.details ?? []) out.push({ ...d, api: apiName, model });
  out.sort((a, b) => (b.timestamp ?? "").localeCompare(a.timestamp ?? ""));
  return out;
}

type GroupBy = "model" | "client" | "credential";
type Metric = "requests" | "tokens" | "cost";

/** The chart's lines from GET /usage/series: one per model, client key or credential (the server keeps the top ones and folds the rest into "other"). */
function linesOf(sr: Series, metric: Metric): { labels: string[]; series: { name: string; values: number[]; total: number }[] } {
  const labels = sr.buckets.map((b) => {
    const d = new Date(b);
    return sr.step === "hour"
      ? d.toLocaleString(locale(), { month: "numeric", day: "numeric", hour: "2-digit" })
      : d.toLocaleDateString(locale(), { month: "numeric", day: "numeric" });
  });
  const series = sr.series.map((l) => {
    const values = metric === "requests" ? l.requests : metric === "tokens" ? l.total_tokens : (l.cost_usd ?? l.requests.map(() => 0));
    const name = l.other
      ? t("otherSeries", { n: fmtNum(sr.folded) })
      : sr.by === "model"
        ? l.key
        : (l.label || l.key || "—") + (l.provider ? ` (${l.provider})` : "");
    return { name, values, total: values.reduce((a, v) => a + v, 0) };
  });
  return { labels, series };
}

/** The series' step for a range: hours up to two days, else days (the server refuses more than 1000 buckets). */
function stepFor(fromISO: string | undefined, toISO: string | undefined): "hour" | "day" {
  if (!fromISO) return "day";
  const span = (toISO ? Date.parse(toISO) : Date.now()) - Date.parse(fromISO);
  return span <= 2 * 86400_000 ? "hour" : "day";
}

function StatsTable(props: { title: string; rows: Record<string, Stats> | undefined; testid: string; cost?: boolean }) {
  const rows = Object.entries(props.rows ?? {}).sort((a, b) => b[1].total_requests - a[1].total_requests);
  const cols: [TKey, (s: Stats) => string][] = [
    ["totalRequests", (s) => fmtNum(s.total_requests)],
    ["successes", (s) => fmtNum(s.success_count)],
    ["failures", (s) => fmtNum(s.failure_count)],
    ["inputTokens", (s) => fmtNum(s.input_tokens)],
    ["outputTokens", (s) => fmtNum(s.output_tokens)],
    ["cachedTokens", (s) => fmtNum(s.cached_tokens)],
    ["reasoningTokens", (s) => fmtNum(s.reasoning_tokens)],
    ["totalTokens", (s) => fmtNum(s.total_tokens)],
  ];
  if (props.cost) cols.push(["cost", (s) => (s.cost_usd === undefined ? "—" : fmtUSD(s.cost_usd))]);
  return (
    <section>
      <h2>{props.title}</h2>
      {rows.length === 0 ? (
        <Empty text={t("noTrafficInRange")} />
      ) : (
        <div class="scroll">
          <table data-testid={props.testid} class="collapse">
            <thead>
              <tr>
                <th scope="col">{t("label")}</th>
                {cols.map(([k]) => (
                  <th key={k} scope="col" class="num">
                    {t(k)}
                  </th>
                ))}
              </tr>
            </thead>
            <tbody>
              {rows.map(([id, s]) => (
                <tr key={id}>
                  <th scope="row" class="mono">
                    {s.label}
                    {s.provider ? <span class="muted"> ({s.provider})</span> : ""}
                  </th>
                  {cols.map(([k, f]) => (
                    <td key={k} class="num" data-label={t(k)}>
                      {f(s)}
                    </td>
                  ))}
                </tr>
              ))}
            </tbody>
          </table>
        </div>
      )}
    </section>
  );
}

/** The request log of one request, shown in place. */
function RequestLog(props: { id: string; onClose: () => void }) {
  const [text, setText] = useState<string | null>(null);
  const [err, setErr] = useState<Explained | null>(null);
  useEffect(() => {
    void api()
      .GET("/request-log-by-id/{id}", { params: { path: { id: props.id } }, parseAs: "text" })
      .then((r) => {
        if (r.response.ok && typeof r.data === "string") setText(r.data);
        else {
          const e = explain(r);
          setErr(r.response.status === 404 ? { ...e, text: t("noRequestLog") } : e);
        }
      });
  }, [props.id]);
  return (
    <Modal title={t("requestLogOf", { id: props.id })} onCancel={props.onClose} wide>
      <Problem err={err} />
      {text === null && !err && <Loading />}
      {text !== null && (
        <pre class="log" tabIndex={0} data-testid="request-log-text">
          {text}
        </pre>
      )}
      <div class="row end">
        <button type="button" onClick={props.onClose} autofocus>
          {t("close")}
        </button>
      </div>
    </Modal>
  );
}

export function Usage() {
  useLang();
  const [data, setData] = useState<Usage | null>(null);
  const [err, setErr] = useState<Explained | null>(null);
  const [range, setRange] = useState<Range>("day");
  const [from, setFrom] = useState(() => localInput(new Date(Date.now() - 86400_000)));
  const [to, setTo] = useState(() => localInput(new Date()));
  const [logId, setLogId] = useState<string | null>(null);
  const [importNote, setImportNote] = useState<{ kind: "ok" | "error"; text: string } | null>(null);
  const [loading, setLoading] = useState(false);
  const [groupBy, setGroupBy] = useState<GroupBy>("model");
  const [metric, setMetric] = useState<Metric>("requests");
  const [series, setSeries] = useState<Series | null>(null);
  const [seriesErr, setSeriesErr] = useState<Explained | null>(null);
  const fileRef = useRef<HTMLInputElement>(null);

  function span(): { from?: string; to?: string } {
    if (range === "all") return {};
    if (range === "custom") {
      const f = new Date(from);
      const e = new Date(to);
      return { from: Number.isNaN(f.getTime()) ? undefined : f.toISOString(), to: Number.isNaN(e.getTime()) ? undefined : e.toISOString() };
    }
    const h = ranges.find((r) => r.id === range)!.hours;
    return { from: new Date(Date.now() - h * 3600_000).toISOString() };
  }

  /** The chart's range: the page's, with "all" as the last 990 days (the series needs bounds; the server refuses more than 1000 buckets). */
  async function loadSeries() {
    const sp = span();
    const to = sp.to ?? new Date().toISOString();
    const from = sp.from ?? new Date(Date.now() - 990 * 86400_000).toISOString();
    const r = await api().GET("/usage/series", { params: { query: { from, to, by: groupBy, step: stepFor(from, to) } } });
    if (r.data) {
      setSeries(r.data);
      setSeriesErr(null);
    } else {
      setSeries(null);
      setSeriesErr(explain(r));
    }
  }

  async function load() {
    setLoading(true);
    const r = await api().GET("/usage", { params: { query: { ...span(), details: DETAILS } } });
    setLoading(false);
    if (r.data) {
      setData(r.data);
      setErr(null);
    } else setErr(explain(r));
  }
  useEffect(() => void load(), [range, range === "custom" ? from + to : ""]);
  useEffect(() => void loadSeries(), [range, range === "custom" ? from + to : "", groupBy, data]);

  async function importFile(f: File) {
    setImportNote(null);
    let body: Schemas["UsageImport"];
    try {
      body = JSON.parse(await f.text()) as Schemas["UsageImport"];
    } catch (x) {
      setImportNote({ kind: "error", text: t("importNotJson", { name: f.name, err: x instanceof Error ? x.message : String(x) }) });
      return;
    }
    if (!body || typeof body !== "object" || Array.isArray(body) || !("usage" in body || "aggregates" in body)) {
      setImportNote({ kind: "error", text: t("importNotExport", { name: f.name }) });
      return;
    }
    const r = await api().POST("/usage/import", { body });
    if (r.data) {
      const d = r.data;
      setImportNote(
        d.added + d.skipped === 0
          ? { kind: "error", text: t("importNothing", { name: f.name }) }
          : { kind: "ok", text: t("imported", { added: fmtNum(d.added), skipped: fmtNum(d.skipped) }) },
      );
      await load();
    } else {
      const e = explain(r);
      setImportNote({ kind: "error", text: t("importRefused", { name: f.name, err: e.text }) });
    }
  }

  const u = data?.usage;
  const rows = u ? flatten(u) : [];
  const latencies = rows.map((r) => r.latency_ms).filter((x): x is number => typeof x === "number").sort((a, b) => a - b);
  const sum = (k: keyof Stats) => Object.values(u?.clients ?? {}).reduce((a, s) => a + (Number(s[k]) || 0), 0);
  const cost = Object.values(u?.clients ?? {}).some((s) => s.cost_usd !== undefined) ? sum("cost_usd") : undefined;
  const clientLabel = (id: string | undefined) => (id ? u?.clients?.[id]?.label ?? id : "—");
  const perModel = series ? linesOf(series, metric) : { labels: [], series: [] };
  const noCost = metric === "cost" && !!series && !series.series.some((l) => l.cost_usd);
  const overTitle = t(groupBy === "model" ? "perModelOverTime" : groupBy === "client" ? "perClientOverTime" : "perCredentialOverTime", {
    metric: t(metric === "requests" ? "totalRequests" : metric === "tokens" ? "totalTokens" : "cost"),
  });
  const chartControls = (
    <div class="row">
      <div class="seg" role="group" aria-label={t("chartShows")} data-testid="usage-metric">
        {(["requests", "tokens", "cost"] as const).map((m) => (
          <button key={m} type="button" class="small" aria-pressed={metric === m} onClick={() => setMetric(m)}>
            {t(m === "requests" ? "totalRequests" : m === "tokens" ? "totalTokens" : "cost")}
          </button>
        ))}
      </div>
      <div class="seg" role="group" aria-label={t("linesPer")} data-testid="usage-group">
        {(["model", "client", "credential"] as const).map((g) => (
          <button key={g} type="button" class="small" aria-pressed={groupBy === g} onClick={() => setGroupBy(g)}>
            {t(g === "model" ? "model" : g === "client" ? "clientKey" : "credential")}
          </button>
        ))}
      </div>
    </div>
  );
  const hours = Array.from({ length: 24 }, (_, i) => String(i).padStart(2, "0"));
  const days = Object.keys({ ...u?.requests_by_day, ...u?.tokens_by_day }).sort();
  const short = range === "hour" || range === "day";
  const timeLabels = short ? hours : days;
  const reqSeries = timeLabels.map((k) => (short ? u?.requests_by_hour : u?.requests_by_day)?.[k] ?? 0);
  const tokSeries = timeLabels.map((k) => (short ? u?.tokens_by_hour : u?.tokens_by_day)?.[k] ?? 0);

  return (
    <Page
      title={t("usage")}
      intro={t("usageIntro")}
      actions={
        err?.kind === "notimpl" ? null : (
          <>
            <button
              type="button"
              data-testid="usage-export"
              onClick={async () => {
                const r = await api().GET("/usage/export", { parseAs: "stream" });
                if (r.response.ok) {
                  // parseAs stream leaves the body unread: save it as a file.
                  await download(new Response(r.data as ReadableStream, { headers: r.response.headers }), "usage-export.json");
                } else toast("error", explain(r).text);
              }}
            >
              {t("export")}
            </button>
            <button type="button" onClick={() => fileRef.current?.click()}>
              {t("import")}
            </button>
            <input
              ref={fileRef}
              type="file"
              accept="application/json,.json"
              class="sr-only"
              tabIndex={-1}
              aria-label={t("import")}
              data-testid="usage-import"
              onChange={(e) => {
                const input = e.currentTarget as HTMLInputElement;
                const f = input.files?.[0];
                input.value = "";
                if (f) void importFile(f);
              }}
            />
          </>
        )
      }
    >
      <div class="toolbar" role="group" aria-label={t("timeRange")}>
        <span class="muted">{t("timeRange")}:</span>
        <div class="seg" data-testid="usage-range">
          {ranges.map((r) => (
            <button key={r.id} type="button" class="small" aria-pressed={range === r.id} onClick={() => setRange(r.id)}>
              {t(r.label)}
            </button>
          ))}
        </div>
        {range === "custom" && (
          <>
            <label class="row">
              {t("from")}
              <input type="datetime-local" value={from} onChange={(e) => setFrom((e.currentTarget as HTMLInputElement).value)} />
            </label>
            <label class="row">
              {t("to")}
              <input type="datetime-local" value={to} onChange={(e) => setTo((e.currentTarget as HTMLInputElement).value)} />
            </label>
          </>
        )}
        <button type="button" class="small" onClick={() => void load()}>
          {t("reload")}
        </button>
        {loading && <span class="spinner" role="status" aria-label={t("loading")} />}
      </div>
      {importNote && (
        <div class={`notice ${importNote.kind === "ok" ? "ok" : "error"}`} role="alert" data-testid="usage-import-result">
          <p>{importNote.text}</p>
        </div>
      )}
      <Problem err={err} onRetry={err?.kind === "notimpl" ? undefined : () => void load()} />
      {!data && !err && <Loading />}
      {data && u && (
        <>
          {data.recording && !data.recording.enabled && <p class="notice">{t("recordingOff")}</p>}
          {data.recording?.store === "unavailable" && (
            <p class="notice error">{t("storeUnavailable", { err: data.recording.store_error ?? "" })}</p>
          )}
          <p class="hint">{t("hourResolution")}</p>
          <dl class="facts" data-testid="usage-totals">
            <div>
              <dt>{t("totalRequests")}</dt>
              <dd class="big">{fmtNum(u.total_requests)}</dd>
            </div>
            <div>
              <dt>{t("successes")}</dt>
              <dd class="big good">{fmtNum(u.success_count)}</dd>
            </div>
            <div>
              <dt>{t("failures")}</dt>
              <dd class={u.failure_count ? "big bad" : "big"}>{fmtNum(u.failure_count)}</dd>
            </div>
            <div>
              <dt>{t("totalTokens")}</dt>
              <dd class="big">{fmtNum(u.total_tokens)}</dd>
            </div>
            <div>
              <dt>{t("cachedTokens")}</dt>
              <dd>{fmtNum(sum("cached_tokens"))}</dd>
            </div>
            <div>
              <dt>{t("reasoningTokens")}</dt>
              <dd>{fmtNum(sum("reasoning_tokens"))}</dd>
            </div>
            <div>
              <dt>{t("cost")}</dt>
              <dd>{cost === undefined ? t("noPrices") : fmtUSD(cost)}</dd>
            </div>
            <div>
              <dt>{t("latency")}</dt>
              <dd data-testid="usage-latency">
                {latencies.length
                  ? `p50 ${fmtNum(pct(latencies, 50))} · p95 ${fmtNum(pct(latencies, 95))} · p99 ${fmtNum(pct(latencies, 99))} ms`
                  : "—"}
              </dd>
            </div>
          </dl>
          {u.total_requests === 0 && <Empty text={t("noTrafficInRange")} />}
          <div class="charts">
            <Chart
              title={short ? t("byHour") : t("byDay")}
              testid={short ? "chart-hour" : "chart-day"}
              deps={`${short}|${timeLabels.join()}|${reqSeries.join()}|${tokSeries.join()}`}
              draw={(el, m) => m.barChart(el, timeLabels, reqSeries, tokSeries, t("requests"), t("tokens"))}
              legend={[
                { name: t("requests"), i: 0 },
                { name: t("tokens"), i: 1 },
              ]}
              table={
                <table>
                  <caption>{short ? t("byHour") : t("byDay")}</caption>
                  <tbody>
                    {timeLabels.map((l, i) => (
                      <tr key={l}>
                        <th scope="row">{l}</th>
                        <td>{reqSeries[i]}</td>
                        <td>{tokSeries[i]}</td>
                      </tr>
                    ))}
                  </tbody>
                </table>
              }
            />
            {seriesErr && <Problem err={seriesErr} onRetry={() => void loadSeries()} />}
            {series && perModel.series.length === 0 && (
              <figure class="chart" data-testid="chart-models">
                <figcaption>{overTitle}</figcaption>
                {chartControls}
                <Empty text={t("noTrafficInRange")} />
              </figure>
            )}
            {perModel.series.length > 0 && (
              <Chart
                title={overTitle}
                controls={chartControls}
                testid="chart-models"
                deps={JSON.stringify(perModel) + metric}
                draw={(el, m) => m.lineChart(el, perModel.labels, perModel.series)}
                legend={perModel.series.map((s, i) => ({ name: s.name, i }))}
                table={
                  <table>
                    <caption>{overTitle}</caption>
                    <tbody>
                      {perModel.series.map((s) => (
                        <tr key={s.name}>
                          <th scope="row">{s.name}</th>
                          <td data-testid="series-total">{metric === "cost" ? fmtUSD(s.total) : fmtNum(s.total)}</td>
                          <td>{s.values.join(", ")}</td>
                        </tr>
                      ))}
                    </tbody>
                  </table>
                }
              />
            )}
          </div>
          {noCost && <p class="hint">{t("noPriceForChart")}</p>}
          <section>
            <h2>{t("perModel")}</h2>
            {Object.keys(u.apis ?? {}).length === 0 ? (
              <Empty text={t("noTrafficInRange")} />
            ) : (
              <div class="scroll">
                <table class="collapse" data-testid="usage-models">
                  <thead>
                    <tr>
                      <th scope="col">{t("endpoint")}</th>
                      <th scope="col">{t("model")}</th>
                      <th scope="col" class="num">
                        {t("totalRequests")}
                      </th>
                      <th scope="col" class="num">
                        {t("totalTokens")}
                      </th>
                    </tr>
                  </thead>
                  <tbody>
                    {Object.entries(u.apis ?? {}).flatMap(([apiName, a]) =>
                      Object.entries(a.models ?? {}).map(([model, m]) => (
                        <tr key={apiName + model}>
                          <td data-label={t("endpoint")} class="mono">
                            {apiName}
                          </td>
                          <td data-label={t("model")} class="mono">
                            {model}
                          </td>
                          <td data-label={t("totalRequests")} class="num">
                            {fmtNum(m.total_requests)}
                          </td>
                          <td data-label={t("totalTokens")} class="num">
                            {fmtNum(m.total_tokens)}
                          </td>
                        </tr>
                      )),
                    )}
                  </tbody>
                </table>
              </div>
            )}
          </section>
          <StatsTable title={t("perClient")} rows={u.clients} testid="usage-clients" cost />
          <StatsTable title={t("perCredential")} rows={u.credentials} testid="usage-credentials" />
          <section>
            <h2>{t("recentRequests")}</h2>
            <p class="hint">{t("recentHint", { n: DETAILS })}</p>
            {rows.length === 0 ? (
              <Empty text={t("noTrafficInRange")} />
            ) : (
              <div class="scroll">
                <table class="collapse" data-testid="usage-recent">
                  <thead>
                    <tr>
                      <th scope="col">{t("time")}</th>
                      <th scope="col">{t("model")}</th>
                      <th scope="col">{t("clientKey")}</th>
                      <th scope="col">{t("credential")}</th>
                      <th scope="col">{t("status")}</th>
                      <th scope="col" class="num">
                        {t("totalTokens")}
                      </th>
                      <th scope="col" class="num">
                        {t("latencyMs")}
                      </th>
                      <th scope="col">{t("requestLog")}</th>
                    </tr>
                  </thead>
                  <tbody>
                    {rows.slice(0, 50).map((r, i) => (
                      <tr key={(r.request_id ?? "") + i}>
                        <td data-label={t("time")} class="nowrap" title={fmtDate(r.timestamp ?? "", true)}>
                          {r.timestamp ? <Time at={r.timestamp} /> : "—"}
                        </td>
                        <td data-label={t("model")} class="mono">
                          {r.model}
                        </td>
                        <td data-label={t("clientKey")} class="mono">
                          {clientLabel(r.client_key)}
                        </td>
                        <td data-label={t("credential")} class="mono">
                          {r.source ?? "—"}
                        </td>
                        <td data-label={t("status")}>
                          <span class={r.failed ? "badge bad" : "badge good"}>
                            {r.status ? r.status : r.failed ? t("failures") : t("successes")}
                          </span>
                        </td>
                        <td data-label={t("totalTokens")} class="num">
                          {fmtNum(r.tokens?.total_tokens)}
                        </td>
                        <td data-label={t("latencyMs")} class="num">
                          {r.latency_ms === undefined ? "—" : fmtNum(r.latency_ms)}
                        </td>
                        <td data-label={t("requestLog")}>
                          {r.request_id ? (
                            <button type="button" class="small" onClick={() => setLogId(r.request_id!)} aria-label={`${t("open")}: ${t("requestLogOf", { id: r.request_id })}`}>
                              {t("open")}
                            </button>
                          ) : (
                            "—"
                          )}
                        </td>
                      </tr>
                    ))}
                  </tbody>
                </table>
              </div>
            )}
            {rows.length > 50 && <p class="hint">{count(rows.length - 50, "moreRowsOne", "moreRowsMany")}</p>}
          </section>
        </>
      )}
      {logId && <RequestLog id={logId} onClose={() => setLogId(null)} />}
    </Page>
  );
}
