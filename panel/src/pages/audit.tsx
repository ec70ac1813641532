// The audit trail: who did what through the Management API, and when.
// The server pages by time (`since`, `after`); actor, action and result
// are filtered here, over the entries read.
import type { Schemas } from "@cli-proxy-api/management-client";
import { useEffect, useMemo, useState } from "preact/hooks";
import { explain, networkError, type Explained } from "../api";
import { t, useLang } from "../i18n";
import { useLiveTick, showRevision } from "../live";
import { api } from "../store";
import { Empty, Page, Problem, useId } from "../ui";
import { Badge, Pager, When, actorText } from "../widgets";

type Entry = Schemas["AuditEntry"];

const SHOWN = 50;
const READ = 200;

function localInput(d: Date): string {
  const p = (n: number) => String(n).padStart(2, "0");
  return `${d.getFullYear()}-${p(d.getMonth() + 1)}-${p(d.getDate())}T${p(d.getHours())}:${p(d.getMinutes())}`;
}

export function Audit() {
  useLang();
  const tick = useLiveTick();
  const [entries, setEntries] = useState<Entry[] | null>(null);
  const [more, setMore] = useState(false);
  const [err, setErr] = useState<Explained | null>(null);
  const [since, setSince] = useState("");
  const [actor, setActor] = useState("");
  const [action, setAction] = useState("");
  const [result, setResult] = useState("");
  const [page, setPage] = useState(0);
  const ids = { since: useId("since"), actor: useId("actor"), action: useId("action"), result: useId("result") };

  /** Reads from `since` (oldest first, appending) or, without it, the newest entries. */
  async function load(append = false) {
    try {
      const last = append && entries?.length ? entries[entries.length - 1] : undefined;
      const query: { limit: number; since?: string; after?: number } = { limit: READ };
      if (since) query.since = new Date(since).toISOString();
      if (last) {
        query.since = last.at;
        query.after = last.id;
      }
      const r = await api().GET("/audit", { params: { query } });
      if (!r.data) {
        setErr(explain(r));
        return;
      }
      setErr(null);
      setMore(Boolean(since) && r.data.more);
      setEntries((old) => (append && old ? [...old, ...r.data!.entries] : r.data!.entries));
      if (!append) setPage(0);
    } catch (e) {
      setErr(networkError(e));
    }
  }
  useEffect(() => void load(), [since, tick]);

  const shown = useMemo(() => {
    // "PutDebug" also finds "PUT /debug" (how a refused request is named).
    const squash = (s: string) => s.toLowerCase().replace("/v0/management", "").replace(/[^a-z0-9]/g, "");
    const q = squash(action);
    const list = (entries ?? []).filter(
      (e) =>
        (!actor || e.identity === actor) &&
        (!q || squash(e.operation).includes(q) || e.paths.some((p) => squash(p).includes(q))) &&
        (!result || (result === "ok" ? e.status < 400 : e.status >= 400)),
    );
    // Newest first without a start time; in time order from a start time.
    return since ? list : list.slice().reverse();
  }, [entries, actor, action, result, since]);
  const pages = Math.max(1, Math.ceil(shown.length / SHOWN));
  const at = Math.min(page, pages - 1);
  const rows = shown.slice(at * SHOWN, at * SHOWN + SHOWN);
  const identities = Array.from(new Set(["config-key", "env-password", "none", ...(entries ?? []).map((e) => e.identity)]));

  return (
    <Page title={t("audit")} intro={t("auditIntro")}>
      <form class="filters" onSubmit={(e) => e.preventDefault()} aria-label={t("fxFilters")}>
        <div class="field">
          <label for={ids.since}>{t("auditSince")}</label>
          <input
            id={ids.since}
            type="datetime-local"
            value={since}
            max={localInput(new Date())}
            data-testid="audit-since"
            onChange={(e) => setSince((e.currentTarget as HTMLInputElement).value)}
          />
        </div>
        <div class="field">
          <label for={ids.actor}>{t("fxWho")}</label>
          <select id={ids.actor} value={actor} data-testid="audit-actor" onChange={(e) => setActor((e.currentTarget as HTMLSelectElement).value)}>
            <option value="">{t("fxAll")}</option>
            {identities.map((x) => (
              <option key={x} value={x}>
                {actorText(x)}
              </option>
            ))}
          </select>
        </div>
        <div class="field">
          <label for={ids.action}>{t("auditAction")}</label>
          <input
            id={ids.action}
            type="search"
            value={action}
            placeholder="PutDebug, api-keys…"
            autocomplete="off"
            data-testid="audit-action"
            onInput={(e) => {
              setAction((e.currentTarget as HTMLInputElement).value);
              setPage(0);
            }}
          />
        </div>
        <div class="field narrow">
          <label for={ids.result}>{t("auditResult")}</label>
          <select id={ids.result} value={result} data-testid="audit-result" onChange={(e) => setResult((e.currentTarget as HTMLSelectElement).value)}>
            <option value="">{t("fxAll")}</option>
            <option value="ok">{t("auditOk")}</option>
            <option value="failed">{t("auditFailed")}</option>
          </select>
        </div>
      </form>
      <Problem err={err} onRetry={() => void load()} />
      {!entries && !err && <p class="muted">{t("fxLoading")}</p>}
      {entries && entries.length > 0 && (
        <p class="muted" aria-live="polite" data-testid="audit-count">
          {t("auditCount", { n: shown.length, total: entries.length })}
        </p>
      )}
      {entries && entries.length === 0 && <Empty text={t("auditNone")} />}
      {entries && entries.length > 0 && shown.length === 0 && <Empty text={t("auditEmpty")} />}
      {rows.length > 0 && (
        <div class="scroll">
          <table class="table-cards" data-testid="audit-table">
            <thead>
              <tr>
                <th scope="col">{t("fxWhen")}</th>
                <th scope="col">{t("fxWho")}</th>
                <th scope="col">{t("auditAction")}</th>
                <th scope="col">{t("auditResult")}</th>
                <th scope="col">{t("changedPaths")}</th>
              </tr>
            </thead>
            <tbody>
              {rows.map((e) => (
                <tr key={e.id} data-testid="audit-row">
                  <td data-label={t("fxWhen")}>
                    <When at={e.at} />
                  </td>
                  <td data-label={t("fxWho")}>
                    {actorText(e.identity)} <span class="muted mono">{e.client}</span>
                  </td>
                  <td data-label={t("auditAction")} class="mono">
                    {e.operation}
                    {e.dryRun && (
                      <>
                        {" "}
                        <Badge kind="info">{t("fxDryRun")}</Badge>
                      </>
                    )}
                  </td>
                  <td data-label={t("auditResult")}>
                    <Badge kind={e.status < 400 ? "ok" : "bad"}>{e.status}</Badge>
                  </td>
                  <td data-label={t("changedPaths")} class="mono">
                    {e.paths.length ? e.paths.join(", ") : "—"}
                    {e.revision ? (
                      <>
                        {" "}
                        <button type="button" class="link" onClick={() => showRevision(e.revision!)}>
                          {t("revisionN", { n: e.revision })}
                        </button>
                      </>
                    ) : null}
                  </td>
                </tr>
              ))}
            </tbody>
          </table>
        </div>
      )}
      <Pager page={at} pages={pages} onPage={setPage} testid="audit-pager" />
      {more && (
        <div class="row pager">
          <button type="button" onClick={() => void load(true)} data-testid="audit-more">
            {t("fxLoadMore")}
          </button>
        </div>
      )}
    </Page>
  );
}
