import type { Schemas } from "@cli-proxy-api/management-client";
import { useEffect, useState } from "preact/hooks";
import { explain, pageBase, type Explained } from "../api";
import { t, useLang } from "../i18n";
import { api, state, useStore } from "../store";
import { CodeBlock, Empty, Loading, Page, Problem, Time, count, fmtDate, fmtDuration, fmtNum } from "../ui";

type Cooldown = Schemas["Cooldowns"]["cooldowns"][number];
type AuthFile = Schemas["AuthFileList"]["files"][number];

/** The start of the hour an hour ago: GET /usage counts whole hours. */
function lastHourStart(now = Date.now()): Date {
  const d = new Date(now - 3600_000);
  d.setMinutes(0, 0, 0);
  return d;
}

/** The proxy's base URL: the server root this page is served under (a path prefix included). */
export function proxyBase(): string {
  return pageBase.replace(/\/$/, "");
}

/** The example calls of the three protocols, with a key and a model. */
export function curls(base: string, key: string, model: string): { id: string; title: string; code: string }[] {
  const q = (s: string) => `'${s.replace(/'/g, "'\\''")}'`;
  return [
    {
      id: "openai",
      title: t("protoOpenAI"),
      code: `curl ${base}/v1/chat/completions \\\n  -H ${q(`Authorization: Bearer ${key}`)} \\\n  -H 'Content-Type: application/json' \\\n  -d ${q(JSON.stringify({ model, messages: [{ role: "user", content: "Hello" }] }))}`,
    },
    {
      id: "claude",
      title: t("protoClaude"),
      code: `curl ${base}/v1/messages \\\n  -H ${q(`x-api-key: ${key}`)} \\\n  -H 'anthropic-version: 2023-06-01' \\\n  -H 'Content-Type: application/json' \\\n  -d ${q(JSON.stringify({ model, max_tokens: 256, messages: [{ role: "user", content: "Hello" }] }))}`,
    },
    {
      id: "gemini",
      title: t("protoGemini"),
      code: `curl ${q(`${base}/v1beta/models/${model}:generateContent`)} \\\n  -H ${q(`x-goog-api-key: ${key}`)} \\\n  -H 'Content-Type: application/json' \\\n  -d ${q(JSON.stringify({ contents: [{ role: "user", parts: [{ text: "Hello" }] }] }))}`,
    },
  ];
}

function useOverviewData() {
  const [health, setHealth] = useState<boolean | null>(null);
  const [started, setStarted] = useState<number | null>(null);
  const [files, setFiles] = useState<AuthFile[] | null>(null);
  const [filesErr, setFilesErr] = useState<Explained | null>(null);
  const [hour, setHour] = useState<Schemas["UsageResponse"] | null>(null);
  const [hourErr, setHourErr] = useState<Explained | null>(null);
  const [cooldowns, setCooldowns] = useState<Cooldown[] | null>(null);
  const [coolErr, setCoolErr] = useState<Explained | null>(null);
  const [clientKeys, setClientKeys] = useState<string[]>([]);
  const [models, setModels] = useState<string[] | null>(null);
  const cfg = useStore().cfg;
  const rawKey = cfg?.["api-keys"]?.[0] ?? "";

  useEffect(() => {
    fetch(new URL("healthz", pageBase), { cache: "no-store" })
      .then((r) => setHealth(r.ok))
      .catch(() => setHealth(false));
    // Process start time from the Prometheus endpoint (the management key is accepted there).
    fetch(new URL("metrics", pageBase), { headers: keyHeader() })
      .then(async (r) => {
        if (!r.ok) return;
        const m = /^process_start_time_seconds\s+([0-9.e+]+)/m.exec(await r.text());
        if (m) setStarted(Number(m[1]));
      })
      .catch(() => undefined);
    void api()
      .GET("/auth-files")
      .then((r) => (r.data ? setFiles(r.data.files) : setFilesErr(explain(r))));
    void api()
      .GET("/usage", { params: { query: { from: lastHourStart().toISOString(), details: 0 } } })
      .then((r) => (r.data ? setHour(r.data) : setHourErr(explain(r))));
    void api()
      .GET("/cooldowns")
      .then((r) => (r.data ? setCooldowns(r.data.cooldowns) : setCoolErr(explain(r))));
    void api()
      .GET("/client-keys")
      .then((r) => r.data && setClientKeys(r.data["client-keys"].map((k) => k.name)));
  }, []);

  // The models a client sees: /v1/models asked with a client key the config holds in clear.
  useEffect(() => {
    if (!rawKey) {
      setModels([]);
      return;
    }
    fetch(new URL("v1/models", pageBase), { headers: { Authorization: `Bearer ${rawKey}` } })
      .then(async (r) => {
        const body = (await r.json()) as { data?: { id: string }[] };
        setModels(r.ok ? (body.data ?? []).map((m) => m.id).sort() : []);
      })
      .catch(() => setModels([]));
  }, [rawKey]);

  return { health, started, files, filesErr, hour, hourErr, cooldowns, coolErr, clientKeys, models, rawKey };
}

export function Overview() {
  useLang();
  const s = useStore();
  const d = useOverviewData();
  const [proto, setProto] = useState("openai");
  const [latest, setLatest] = useState<string>("");
  const cfg = s.cfg;

  const providerKeys =
    (cfg?.["gemini-api-key"]?.length ?? 0) +
    (cfg?.["codex-api-key"]?.length ?? 0) +
    (cfg?.["claude-api-key"]?.length ?? 0) +
    (cfg?.["xai-api-key"]?.length ?? 0) +
    (cfg?.["vertex-api-key"]?.length ?? 0);
  const compat = cfg?.["openai-compatibility"]?.length ?? 0;
  const keys = (cfg?.["api-keys"]?.length ?? 0) + d.clientKeys.length;
  const authFiles = d.files?.length ?? 0;
  const hasUpstream = providerKeys + compat + authFiles > 0;
  const failing = (d.files ?? []).filter((f) => f.disabled !== true && (f.unavailable || f.status === "error"));
  const u = d.hour?.usage;
  const base = proxyBase();
  const keyForCurl = d.rawKey || (d.clientKeys[0] ? `<${t("keyOf", { name: d.clientKeys[0] })}>` : "<client-key>");
  const model = d.models?.[0] ?? "<model>";
  const calls = curls(base, keyForCurl, model);
  const call = calls.find((c) => c.id === proto) ?? calls[0]!;

  return (
    <Page title={t("overview")} intro={t("overviewIntro")}>
      {cfg && d.files && (keys === 0 || !hasUpstream) && (
        <section class="card" aria-labelledby="setup-h" data-testid="first-setup">
          <h2 id="setup-h">{t("setupTitle")}</h2>
          <p>{t("setupIntro")}</p>
          <ol class="steps">
            <li class={keys > 0 ? "done" : ""}>
              {keys > 0 ? `${t("setupDone")}: ` : ""}
              <a href="#/keys">{t("setupStep1")}</a>
            </li>
            <li class={hasUpstream ? "done" : ""}>
              {hasUpstream ? `${t("setupDone")}: ` : ""}
              <a href="#/providers">{t("setupStep2a")}</a> {t("or")} <a href="#/oauth">{t("setupStep2b")}</a>
            </li>
            <li>
              <a href="#how-to-call">{t("setupStep3")}</a>
            </li>
          </ol>
        </section>
      )}

      <section aria-labelledby="status-h">
        <h2 id="status-h">{t("status")}</h2>
        <dl class="facts">
          <div>
            <dt>{t("health")}</dt>
            <dd data-testid="ov-health">
              {d.health === null ? (
                "…"
              ) : (
                <span class={d.health ? "badge good" : "badge bad"}>{d.health ? t("healthy") : t("unhealthy")}</span>
              )}
            </dd>
          </div>
          <div>
            <dt>{t("version")}</dt>
            <dd data-testid="ov-version">{s.version.version || t("unknown")}</dd>
          </div>
          <div>
            <dt>{t("uptime")}</dt>
            <dd data-testid="ov-uptime">{d.started ? fmtDuration(Date.now() / 1000 - d.started) : t("unknown")}</dd>
          </div>
          <div>
            <dt>{t("buildDate")}</dt>
            <dd class="nowrap-token" data-testid="ov-build-date" title={s.version.date}>
              {s.version.date ? fmtDate(s.version.date) : t("unknown")}
            </dd>
          </div>
          <div>
            <dt>{t("commit")}</dt>
            <dd class="mono">{s.version.commit ? s.version.commit.slice(0, 12) : t("unknown")}</dd>
          </div>
        </dl>
      </section>

      <section aria-labelledby="traffic-h">
        <h2 id="traffic-h">{t("lastHour")}</h2>
        <Problem err={d.hourErr} />
        {!d.hour && !d.hourErr && <Loading />}
        {u && (
          <>
            <dl class="facts" data-testid="ov-traffic">
              <div class="linked">
                <dt><a href="#/usage">{t("totalRequests")}</a></dt>
                <dd class="big">{fmtNum(u.total_requests)}</dd>
              </div>
              <div class="linked">
                <dt><a href="#/usage">{t("failures")}</a></dt>
                <dd class={u.failure_count ? "big bad" : "big"}>{fmtNum(u.failure_count)}</dd>
              </div>
              <div class="linked">
                <dt><a href="#/usage">{t("totalTokens")}</a></dt>
                <dd class="big">{fmtNum(u.total_tokens)}</dd>
              </div>
            </dl>
            <p class="hint">{t("sinceHour", { time: fmtDate(lastHourStart()) })}</p>
            {d.hour?.recording && !d.hour.recording.enabled && <p class="notice">{t("recordingOff")}</p>}
          </>
        )}
      </section>

      <section aria-labelledby="config-h">
        <h2 id="config-h">{t("configured")}</h2>
        <dl class="facts" data-testid="ov-counts">
          <div class="linked">
            <dt><a href="#/keys">{t("clientKeys")}</a></dt>
            <dd>{fmtNum(keys)}</dd>
          </div>
          <div class="linked">
            <dt><a href="#/providers">{t("providers")}</a></dt>
            <dd>{fmtNum(providerKeys)}</dd>
          </div>
          <div class="linked">
            <dt><a href="#/openai">{t("openaiCompat")}</a></dt>
            <dd>{fmtNum(compat)}</dd>
          </div>
          <div class="linked">
            <dt><a href="#/auth-files">{t("authFiles")}</a></dt>
            <dd>{d.files ? fmtNum(authFiles) : d.filesErr ? "—" : "…"}</dd>
          </div>
          <div class="linked">
            <dt><a href="#/usage">{t("modelsAvailable")}</a></dt>
            <dd>{d.models ? fmtNum(d.models.length) : "…"}</dd>
          </div>
        </dl>
      </section>

      <section aria-labelledby="cool-h">
        <h2 id="cool-h">{t("credentialHealth")}</h2>
        <Problem err={d.coolErr} />
        {d.cooldowns === null && !d.coolErr && <Loading />}
        {d.cooldowns && d.cooldowns.length === 0 && failing.length === 0 && (
          <p data-testid="ov-cool-none">
            <span class="badge good">{t("allCredentialsOk")}</span>
          </p>
        )}
        {failing.length > 0 && (
          <div class="notice error" data-testid="ov-failing">
            <p>{count(failing.length, "failingOne", "failingMany")}</p>
            <ul>
              {failing.slice(0, 5).map((f) => (
                <li key={f.name}>
                  <a href="#/auth-files">{f.name}</a>
                  {f.status_message ? `: ${f.status_message}` : ""}
                </li>
              ))}
            </ul>
          </div>
        )}
        {d.cooldowns && d.cooldowns.length > 0 && (
          <div class="scroll">
            <table class="collapse" data-testid="ov-cooldowns">
              <caption class="sr-only">{t("cooldowns")}</caption>
              <thead>
                <tr>
                  <th scope="col">{t("credential")}</th>
                  <th scope="col">{t("model")}</th>
                  <th scope="col">{t("reason")}</th>
                  <th scope="col">{t("until")}</th>
                </tr>
              </thead>
              <tbody>
                {d.cooldowns.map((c) => (
                  <tr key={c.credential + c.model}>
                    <td data-label={t("credential")}>
                      {c.label} <span class="muted">({c.provider})</span>
                    </td>
                    <td data-label={t("model")} class="mono">
                      {c.model}
                    </td>
                    <td data-label={t("reason")}>
                      <span class="badge warn">{t(`reason_${c.reason}` as "reason_quota")}</span>
                    </td>
                    <td data-label={t("until")}>
                      <Time at={c.until} />
                    </td>
                  </tr>
                ))}
              </tbody>
            </table>
          </div>
        )}
      </section>

      <section aria-labelledby="how-to-call" class="card">
        <h2 id="how-to-call" tabIndex={-1}>
          {t("howToCall")}
        </h2>
        <dl class="facts wide">
          <div>
            <dt>{t("baseOpenAI")}</dt>
            <dd class="mono" data-testid="ov-base">{`${base}/v1`}</dd>
          </div>
          <div>
            <dt>{t("baseGemini")}</dt>
            <dd class="mono">{`${base}/v1beta`}</dd>
          </div>
        </dl>
        {!d.rawKey && <p class="hint">{d.clientKeys.length ? t("curlNamedKey") : t("curlNoKey")}</p>}
        {d.models && d.models.length === 0 && <p class="hint">{t("curlNoModel")}</p>}
        <div class="tabs" role="tablist" aria-label={t("howToCall")}>
          {calls.map((c) => (
            <button
              key={c.id}
              type="button"
              role="tab"
              id={`tab-${c.id}`}
              aria-selected={c.id === call.id}
              aria-controls="curl-panel"
              onClick={() => setProto(c.id)}
            >
              {c.title}
            </button>
          ))}
        </div>
        <div role="tabpanel" id="curl-panel" aria-labelledby={`tab-${call.id}`}>
          <CodeBlock code={call.code} label={call.title} testid={`curl-${call.id}`} />
        </div>
        {d.models && d.models.length > 1 && (
          <details>
            <summary>{count(d.models.length, "modelsOne", "modelsMany")}</summary>
            <p class="mono">{d.models.join(", ")}</p>
          </details>
        )}
      </section>

      <section aria-labelledby="more-h">
        <h2 id="more-h">{t("moreInfo")}</h2>
        <ul class="links">
          <li>
            <a href="./v0/management/docs/" target="_blank" rel="noopener noreferrer">
              {t("swaggerUi")}
            </a>
          </li>
          <li>
            <a href="./v0/management/openapi.json" target="_blank" rel="noopener noreferrer">
              {t("openapiJson")}
            </a>
          </li>
        </ul>
        <p class="row">
          <button
            type="button"
            onClick={async () => {
              setLatest("…");
              const r = await api().GET("/latest-version");
              setLatest(r.data ? t("latestVersion", { v: r.data["latest-version"] ?? "" }) : explain(r).text);
            }}
          >
            {t("checkUpdates")}
          </button>
          <span role="status">{latest}</span>
        </p>
      </section>
      {!cfg && !s.cfgError && <Loading />}
      {!cfg && s.cfgError && <Empty text={s.cfgError.text} />}
    </Page>
  );
}

function keyHeader(): Record<string, string> {
  // /metrics is outside the Management API spec, so it is fetched directly.
  return state.key ? { Authorization: `Bearer ${state.key}` } : {};
}
