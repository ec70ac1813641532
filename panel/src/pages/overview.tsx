import { useEffect, useState } from "preact/hooks";
import { explain, pageBase } from "../api";
import { t, useLang } from "../i18n";
import { api, state, useStore } from "../store";
import { Page, fmtNum } from "../ui";

function fmtDuration(s: number): string {
  const d = Math.floor(s / 86400);
  const h = Math.floor((s % 86400) / 3600);
  const m = Math.floor((s % 3600) / 60);
  return d ? `${d}d ${h}h ${m}m` : h ? `${h}h ${m}m` : `${m}m ${Math.floor(s % 60)}s`;
}

export function Overview() {
  useLang();
  const s = useStore();
  const [health, setHealth] = useState<boolean | null>(null);
  const [started, setStarted] = useState<number | null>(null);
  const [authCount, setAuthCount] = useState<string>("…");
  const [latest, setLatest] = useState<string>("");

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
    api()
      .GET("/auth-files")
      .then((r) => setAuthCount(r.data ? String(r.data.files.length) : "—"))
      .catch(() => setAuthCount("—"));
  }, []);

  const cfg = s.cfg;
  const counts: [string, number][] = cfg
    ? [
        [t("clientKeys"), cfg["api-keys"]?.length ?? 0],
        [t("providerKind_gemini"), cfg["gemini-api-key"]?.length ?? 0],
        [t("providerKind_codex"), cfg["codex-api-key"]?.length ?? 0],
        [t("providerKind_claude"), cfg["claude-api-key"]?.length ?? 0],
        [t("providerKind_vertex"), cfg["vertex-api-key"]?.length ?? 0],
        [t("openaiCompat"), cfg["openai-compatibility"]?.length ?? 0],
      ]
    : [];
  return (
    <Page title={t("overview")}>
      <dl class="facts">
        <div>
          <dt>{t("version")}</dt>
          <dd data-testid="ov-version">{s.version.version || t("unknown")}</dd>
        </div>
        <div>
          <dt>{t("commit")}</dt>
          <dd>{s.version.commit || t("unknown")}</dd>
        </div>
        <div>
          <dt>{t("buildDate")}</dt>
          <dd>{s.version.date || t("unknown")}</dd>
        </div>
        <div>
          <dt>{t("uptime")}</dt>
          <dd data-testid="ov-uptime">{started ? fmtDuration(Date.now() / 1000 - started) : t("unknown")}</dd>
        </div>
        <div>
          <dt>{t("health")}</dt>
          <dd data-testid="ov-health" class={health ? "good" : health === false ? "bad" : ""}>
            {health === null ? "…" : health ? t("healthy") : t("unhealthy")}
          </dd>
        </div>
      </dl>
      <h2>{t("counts")}</h2>
      <dl class="facts">
        {counts.map(([k, v]) => (
          <div key={k}>
            <dt>{k}</dt>
            <dd>{fmtNum(v)}</dd>
          </div>
        ))}
        <div>
          <dt>{t("authFiles")}</dt>
          <dd>{authCount}</dd>
        </div>
      </dl>
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
    </Page>
  );
}

function keyHeader(): Record<string, string> {
  // /metrics is outside the Management API spec, so it is fetched directly.
  return state.key ? { Authorization: `Bearer ${state.key}` } : {};
}
