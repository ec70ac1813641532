import type { Schemas } from "@cli-proxy-api/management-client";
import { useEffect, useRef, useState } from "preact/hooks";
import { download, explain, type Explained } from "../api";
import { t, useLang } from "../i18n";
import { api, toast } from "../store";
import { Page, Problem, fmtNum } from "../ui";

type Usage = Schemas["UsageResponse"];
type Stats = Schemas["UsageKeyStats"];

function Chart(props: { title: string; labels: string[]; requests: number[]; tokens: number[]; testid: string }) {
  const host = useRef<HTMLDivElement>(null);
  useEffect(() => {
    let plot: { destroy(): void } | null = null;
    let alive = true;
    void import("../chart").then((m) => {
      if (alive && host.current) plot = m.barChart(host.current, props.labels, props.requests, props.tokens, t("requests"), t("tokens"));
    });
    return () => {
      alive = false;
      plot?.destroy();
    };
  }, [props.labels.join(","), props.requests.join(","), props.tokens.join(",")]);
  return (
    <figure class="chart" data-testid={props.testid}>
      <figcaption>{props.title}</figcaption>
      <div ref={host} />
      <table class="sr-only">
        <caption>{props.title}</caption>
        <tbody>
          {props.labels.map((l, i) => (
            <tr key={l}>
              <th scope="row">{l}</th>
              <td>{props.requests[i]}</td>
              <td>{props.tokens[i]}</td>
            </tr>
          ))}
        </tbody>
      </table>
    </figure>
  );
}

function series(byReq: Record<string, number> | undefined, byTok: Record<string, number> | undefined, keys?: string[]) {
  const labels = keys ?? Object.keys({ ...byReq, ...byTok }).sort();
  return { labels, requests: labels.map((k) => byReq?.[k] ?? 0), tokens: labels.map((k) => byTok?.[k] ?? 0) };
}

function StatsTable(props: { title: string; rows: Record<string, Stats> | undefined; testid: string }) {
  const rows = Object.entries(props.rows ?? {});
  return (
    <section>
      <h2>{props.title}</h2>
      {rows.length === 0 ? (
        <p class="muted">{t("empty")}</p>
      ) : (
        <div class="scroll">
          <table data-testid={props.testid}>
            <thead>
              <tr>
                <th scope="col">{t("label")}</th>
                <th scope="col">{t("totalRequests")}</th>
                <th scope="col">{t("successes")}</th>
                <th scope="col">{t("failures")}</th>
                <th scope="col">{t("totalTokens")}</th>
              </tr>
            </thead>
            <tbody>
              {rows.map(([id, s]) => (
                <tr key={id}>
                  <th scope="row">
                    {s.label}
                    {s.provider ? ` (${s.provider})` : ""}
                  </th>
                  <td>{fmtNum(s.total_requests)}</td>
                  <td>{fmtNum(s.success_count)}</td>
                  <td>{fmtNum(s.failure_count)}</td>
                  <td>{fmtNum(s.total_tokens)}</td>
                </tr>
              ))}
            </tbody>
          </table>
        </div>
      )}
    </section>
  );
}

export function Usage() {
  useLang();
  const [data, setData] = useState<Usage | null>(null);
  const [err, setErr] = useState<Explained | null>(null);
  const fileRef = useRef<HTMLInputElement>(null);

  async function load() {
    const r = await api().GET("/usage", { params: { query: { details: 0 } } });
    if (r.data) {
      setData(r.data);
      setErr(null);
    } else setErr(explain(r));
  }
  useEffect(() => void load(), []);

  const u = data?.usage;
  const hours = Array.from({ length: 24 }, (_, i) => String(i).padStart(2, "0"));
  return (
    <Page
      title={t("usage")}
      actions={
        err?.kind === "notimpl" ? null : (
          <>
            <button type="button" onClick={() => void load()}>
              {t("reload")}
            </button>
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
              onChange={async (e) => {
                const input = e.currentTarget as HTMLInputElement;
                const f = input.files?.[0];
                input.value = "";
                if (!f) return;
                let body: Schemas["UsageImport"];
                try {
                  body = JSON.parse(await f.text()) as Schemas["UsageImport"];
                } catch (x) {
                  toast("error", String(x));
                  return;
                }
                const r = await api().POST("/usage/import", { body });
                if (r.data) {
                  toast("ok", t("imported", { added: r.data.added, skipped: r.data.skipped }));
                  await load();
                } else toast("error", explain(r).text);
              }}
            />
          </>
        )
      }
    >
      <Problem err={err} onRetry={err?.kind === "notimpl" ? undefined : () => void load()} />
      {data && (
        <>
          {data.recording && !data.recording.enabled && <p class="notice">{t("recordingOff")}</p>}
          {data.recording?.store === "unavailable" && (
            <p class="notice error">{t("storeUnavailable", { err: data.recording.store_error ?? "" })}</p>
          )}
          <dl class="facts" data-testid="usage-totals">
            <div>
              <dt>{t("totalRequests")}</dt>
              <dd>{fmtNum(u?.total_requests)}</dd>
            </div>
            <div>
              <dt>{t("successes")}</dt>
              <dd>{fmtNum(u?.success_count)}</dd>
            </div>
            <div>
              <dt>{t("failures")}</dt>
              <dd>{fmtNum(u?.failure_count)}</dd>
            </div>
            <div>
              <dt>{t("totalTokens")}</dt>
              <dd>{fmtNum(u?.total_tokens)}</dd>
            </div>
          </dl>
          <div class="charts">
            <Chart title={t("byDay")} testid="chart-day" {...series(u?.requests_by_day, u?.tokens_by_day)} />
            <Chart title={t("byHour")} testid="chart-hour" {...series(u?.requests_by_hour, u?.tokens_by_hour, hours)} />
          </div>
          <StatsTable title={t("perClient")} rows={u?.clients} testid="usage-clients" />
          <StatsTable title={t("perCredential")} rows={u?.credentials} testid="usage-credentials" />
          <section>
            <h2>{t("perModel")}</h2>
            <div class="scroll">
              <table>
                <thead>
                  <tr>
                    <th scope="col">API</th>
                    <th scope="col">Model</th>
                    <th scope="col">{t("totalRequests")}</th>
                    <th scope="col">{t("totalTokens")}</th>
                  </tr>
                </thead>
                <tbody>
                  {Object.entries(u?.apis ?? {}).flatMap(([apiName, a]) =>
                    Object.entries(a.models ?? {}).map(([model, m]) => (
                      <tr key={apiName + model}>
                        <td>{apiName}</td>
                        <td>{model}</td>
                        <td>{fmtNum(m.total_requests)}</td>
                        <td>{fmtNum(m.total_tokens)}</td>
                      </tr>
                    )),
                  )}
                </tbody>
              </table>
            </div>
          </section>
        </>
      )}
    </Page>
  );
}
