// Config history: every revision (who, when, how, what changed), the diff
// between any two, and a rollback that shows its dry run first.
import { withIfMatch, type Schemas } from "@cli-proxy-api/management-client";
import { useEffect, useState } from "preact/hooks";
import { explain, networkError, type Explained } from "../api";
import { unifiedDiff } from "../diff";
import { t, useLang } from "../i18n";
import { SHOW_REVISION, takeShownRevision, useLiveTick } from "../live";
import { api, loadConfig, state, toast } from "../store";
import { Page, Problem, count, useId } from "../ui";
import { DiffView, When, absolute, actorText, askPreview, sourceText } from "../widgets";

type Revision = Schemas["ConfigRevision"];
type Detail = Schemas["ConfigRevisionDetail"];

const PAGE = 20;

async function detail(rev: number): Promise<Detail | Explained> {
  try {
    const r = await api().GET("/config/history/{revision}", { params: { path: { revision: rev } } });
    return r.data ?? explain(r);
  } catch (err) {
    return networkError(err);
  }
}

function isDetail(x: Detail | Explained): x is Detail {
  return "yaml" in x;
}

export function History() {
  useLang();
  const tick = useLiveTick();
  const [revs, setRevs] = useState<Revision[] | null>(null);
  const [total, setTotal] = useState(0);
  const [next, setNext] = useState<number | undefined>(undefined);
  const [err, setErr] = useState<Explained | null>(null);
  const [from, setFrom] = useState<number | null>(null);
  const [to, setTo] = useState<number | null>(null);
  const [diff, setDiff] = useState<{ text: string; from: number | null; to: number } | null>(null);
  const [diffErr, setDiffErr] = useState<Explained | null>(null);
  const [busy, setBusy] = useState(false);
  const fromId = useId("from");
  const toId = useId("to");

  async function load(before?: number) {
    try {
      const r = await api().GET("/config/history", { params: { query: { limit: PAGE, ...(before ? { before } : {}) } } });
      if (!r.data) {
        setErr(explain(r));
        return;
      }
      setErr(null);
      const page = r.data.revisions;
      setRevs((old) => (before && old ? [...old, ...page] : page));
      setTotal(r.data.total);
      setNext(r.data.next_before);
      if (!before) {
        const wanted = takeShownRevision();
        const pick = wanted ?? page[0]?.revision ?? null;
        if (pick !== null && (to === null || wanted !== null)) void compare(null, pick);
      }
    } catch (e) {
      setErr(networkError(e));
    }
  }

  useEffect(() => void load(), [tick]);
  useEffect(() => {
    const f = () => {
      const rev = takeShownRevision();
      if (rev !== null) void compare(null, rev);
    };
    addEventListener(SHOW_REVISION, f);
    return () => removeEventListener(SHOW_REVISION, f);
  }, []);

  /** The diff from `a` to `b`; a null `a` is "the revision before b", as the server computed it. */
  async function compare(a: number | null, b: number) {
    setFrom(a);
    setTo(b);
    setDiffErr(null);
    const db = await detail(b);
    if (!isDetail(db)) {
      setDiffErr(db);
      return;
    }
    if (a === null) {
      setDiff({ text: db.diff, from: null, to: b });
      return;
    }
    const da = await detail(a);
    if (!isDetail(da)) {
      setDiffErr(da);
      return;
    }
    setDiff({ text: unifiedDiff(da.yaml, db.yaml, t("revisionN", { n: a }), t("revisionN", { n: b })), from: a, to: b });
  }

  async function rollback(rev: number) {
    setBusy(true);
    try {
      const etag = state.etag ?? (await loadConfig())?.etag ?? "";
      const dry = await api().POST("/config/rollback", {
        params: { query: { dryRun: true }, header: withIfMatch(etag) },
        body: { revision: rev },
      });
      if (!dry.data) {
        toast("error", `${t("failed")}: ${explain(dry).text}`);
        return;
      }
      const diffText = dry.data.diff ?? "";
      if (!diffText.trim()) {
        toast("info", t("rollbackNothing", { n: rev }));
        return;
      }
      const yes = await askPreview({
        title: t("rollbackTitle", { n: rev }),
        intro: t("rollbackIntro"),
        diff: diffText,
        confirm: t("rollbackDo"),
        danger: true,
      });
      if (!yes) return;
      const r = await api().POST("/config/rollback", {
        params: { header: withIfMatch(etag) },
        body: { revision: rev },
      });
      if (r.data) {
        toast("ok", r.data.revision ? t("rolledBack", { n: rev, rev: r.data.revision }) : t("rollbackNothing", { n: rev }));
        await loadConfig();
        await load();
      } else if (r.response.status === 412) {
        toast("error", t("rollbackStale"));
        await loadConfig();
      } else toast("error", `${t("failed")}: ${explain(r).text}`);
    } catch (e) {
      toast("error", networkError(e).text);
    } finally {
      setBusy(false);
    }
  }

  const current = revs?.[0]?.revision;
  return (
    <Page title={t("history")} intro={t("historyIntro")}>
      <Problem err={err} onRetry={() => void load()} />
      {!revs && !err && <p class="muted">{t("fxLoading")}</p>}
      {revs && revs.length === 0 && <p class="muted">{t("historyEmpty")}</p>}
      {revs && revs.length > 0 && (
        <>
          <p class="muted">{count(total, "historyTotalOne", "historyTotal")}</p>
          <div class="scroll">
            <table class="table-cards" data-testid="history-table">
              <thead>
                <tr>
                  <th scope="col">{t("revision")}</th>
                  <th scope="col">{t("fxWhen")}</th>
                  <th scope="col">{t("fxWho")}</th>
                  <th scope="col">{t("changedPaths")}</th>
                  <th scope="col">
                    <span class="sr-only">{t("fxActions")}</span>
                  </th>
                </tr>
              </thead>
              <tbody>
                {revs.map((r) => (
                  <tr key={r.revision} data-testid="history-row" aria-current={r.revision === to ? "true" : undefined}>
                    <td data-label={t("revision")}>
                      <strong>#{r.revision}</strong>
                      {r.revision === current && <span class="muted"> ({t("currentRevision")})</span>}
                    </td>
                    <td data-label={t("fxWhen")}>
                      <When at={r.at} />
                    </td>
                    <td data-label={t("fxWho")}>
                      {actorText(r.actor)} · {sourceText(r.source)}
                    </td>
                    <td data-label={t("changedPaths")} class="mono">
                      {r.paths.length ? r.paths.slice(0, 5).join(", ") + (r.paths.length > 5 ? ` +${r.paths.length - 5}` : "") : "—"}
                    </td>
                    <td>
                      <div class="row">
                        <button type="button" onClick={() => void compare(null, r.revision)} aria-label={`${t("showDiff")} #${r.revision}`}>
                          {t("showDiff")}
                        </button>
                        {r.revision !== current && (
                          <button
                            type="button"
                            class="danger"
                            disabled={busy}
                            data-testid="rollback"
                            aria-label={`${t("rollbackTo")} #${r.revision}`}
                            onClick={() => void rollback(r.revision)}
                          >
                            {t("rollbackTo")}
                          </button>
                        )}
                      </div>
                    </td>
                  </tr>
                ))}
              </tbody>
            </table>
          </div>
          {next && (
            <div class="row pager">
              <button type="button" onClick={() => void load(next)} data-testid="history-older">
                {t("olderRevisions")}
              </button>
            </div>
          )}
          <section aria-labelledby="diff-h">
            <h2 id="diff-h">{t("compareTitle")}</h2>
            <form
              class="filters"
              onSubmit={(e) => {
                e.preventDefault();
                if (to !== null) void compare(from, to);
              }}
            >
              <div class="field wide">
                <label for={fromId}>{t("compareFrom")}</label>
                <select
                  id={fromId}
                  value={from === null ? "" : String(from)}
                  data-testid="compare-from"
                  onChange={(e) => {
                    const v = (e.currentTarget as HTMLSelectElement).value;
                    if (to !== null) void compare(v ? Number(v) : null, to);
                  }}
                >
                  <option value="">{t("comparePrevious")}</option>
                  {revs.map((r) => (
                    <option key={r.revision} value={r.revision}>
                      #{r.revision} · {absolute(r.at)}
                    </option>
                  ))}
                </select>
              </div>
              <div class="field wide">
                <label for={toId}>{t("compareTo")}</label>
                <select
                  id={toId}
                  value={to === null ? "" : String(to)}
                  data-testid="compare-to"
                  onChange={(e) => void compare(from, Number((e.currentTarget as HTMLSelectElement).value))}
                >
                  {revs.map((r) => (
                    <option key={r.revision} value={r.revision}>
                      #{r.revision} · {absolute(r.at)}
                    </option>
                  ))}
                </select>
              </div>
            </form>
            <Problem err={diffErr} />
            {diff && (
              <>
                <p class="muted" data-testid="diff-caption">
                  {diff.from === null ? t("diffAgainstPrevious", { n: diff.to }) : t("diffBetween", { a: diff.from, b: diff.to })}
                </p>
                <DiffView diff={diff.text} testid="history-diff" />
              </>
            )}
          </section>
        </>
      )}
    </Page>
  );
}
