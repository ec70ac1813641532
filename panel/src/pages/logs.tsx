import type { Schemas } from "@cli-proxy-api/management-client";
import { useEffect, useRef, useState } from "preact/hooks";
import { download, explain, type Explained } from "../api";
import { t, useLang, type TKey } from "../i18n";
import { api, askConfirm, toast, useStore } from "../store";
import { Empty, Loading, Modal, Page, Problem, Time, count, fmtBytes, fmtDate } from "../ui";
import { setLoggingToFile } from "./settings";

const MAX_LINES = 5000;

type Level = "all" | "error" | "warn" | "info" | "debug";
const levels: { id: Level; label: TKey }[] = [
  { id: "all", label: "levelAll" },
  { id: "error", label: "levelError" },
  { id: "warn", label: "levelWarn" },
  { id: "info", label: "levelInfo" },
  { id: "debug", label: "levelDebug" },
];
const rank: Record<string, number> = { debug: 0, info: 1, warn: 2, error: 3 };

/** The level of a log line, text (slog's "level=WARN" or a bare word) or JSON ("level":"error"). */
export function levelOf(line: string): keyof typeof rank | "" {
  const m = /(?:level[=":\s]+"?|\s|\[)(debug|info|warn(?:ing)?|error|fatal|panic)\b/i.exec(line);
  if (!m) return "";
  const l = m[1]!.toLowerCase();
  if (l.startsWith("warn")) return "warn";
  if (l === "fatal" || l === "panic") return "error";
  return l as keyof typeof rank;
}

function AppLog() {
  const s = useStore();
  const loggingOn = s.cfg?.["logging-to-file"] === true;
  const [lines, setLines] = useState<string[] | null>(null);
  const [err, setErr] = useState<Explained | null>(null);
  const [follow, setFollow] = useState(true);
  const [query, setQuery] = useState("");
  const [level, setLevel] = useState<Level>("all");
  const cursor = useRef("");
  const pre = useRef<HTMLPreElement>(null);

  async function tail(reset = false) {
    if (reset) {
      cursor.current = "";
      setLines(null);
    }
    const r = await api().GET("/logs", { params: { query: cursor.current ? { cursor: cursor.current } : { limit: 1000 } } });
    if (!r.data) {
      setErr(explain(r));
      return;
    }
    setErr(null);
    const d = r.data;
    const fresh = reset || d["cursor-reset"] === true;
    if (d["next-cursor"]) cursor.current = d["next-cursor"];
    setLines((old) => (fresh || !old ? d.lines.slice(-MAX_LINES) : [...old, ...d.lines].slice(-MAX_LINES)));
    if (d.lines.length) requestAnimationFrame(() => pre.current?.scrollTo({ top: pre.current.scrollHeight }));
  }

  // While logging to file is off there is no log to read: the page says so
  // instead of asking (GET /logs would answer 400).
  useEffect(() => {
    if (loggingOn) void tail(true);
  }, [loggingOn]);

  useEffect(() => {
    if (!loggingOn || !follow || err) return;
    const id = setInterval(() => void tail(), 2000);
    return () => clearInterval(id);
  }, [follow, err, loggingOn]);

  const q = query.trim().toLowerCase();
  const shown = (lines ?? []).filter((l) => {
    if (q && !l.toLowerCase().includes(q)) return false;
    if (level === "all") return true;
    const lv = levelOf(l);
    return lv !== "" && rank[lv]! >= rank[level]!;
  });

  return (
    <section aria-labelledby="applog-h">
      <h2 id="applog-h">{t("appLog")}</h2>
      {!s.cfg && <Loading />}
      {s.cfg && !loggingOn && (
        <div class="notice info" data-testid="logging-off">
          <p>{t("loggingOff")}</p>
          <button type="button" class="primary" onClick={() => void setLoggingToFile(true)}>
            {t("enableLogging")}
          </button>
        </div>
      )}
      {loggingOn && (
        <>
          <div class="toolbar">
            <label class="sr-only" for="log-search">
              {t("search")}
            </label>
            <input
              id="log-search"
              type="search"
              placeholder={t("searchLogs")}
              value={query}
              data-testid="log-search"
              onInput={(e) => setQuery((e.currentTarget as HTMLInputElement).value)}
            />
            <label class="row">
              {t("level")}
              <select value={level} data-testid="log-level" onChange={(e) => setLevel((e.currentTarget as HTMLSelectElement).value as Level)}>
                {levels.map((l) => (
                  <option key={l.id} value={l.id}>
                    {t(l.label)}
                  </option>
                ))}
              </select>
            </label>
            <label class="toggle">
              <input type="checkbox" checked={follow} onChange={(e) => setFollow((e.currentTarget as HTMLInputElement).checked)} />
              {t("follow")}
            </label>
            <button type="button" onClick={() => void tail(true)}>
              {t("reload")}
            </button>
            <button
              type="button"
              class="danger"
              disabled={!!err}
              onClick={async () => {
                if (!(await askConfirm(t("clearLogsConfirm")))) return;
                const r = await api().DELETE("/logs");
                if (r.data) {
                  toast("ok", t("logsCleared"));
                  void tail(true);
                } else toast("error", explain(r).text);
              }}
            >
              {t("clearLogs")}
            </button>
          </div>
          <Problem err={err} onRetry={() => void tail(true)} />
          {lines === null && !err && <Loading />}
          {lines !== null && (
            <>
              <p class="muted" role="status" data-testid="log-count">
                {q || level !== "all"
                  ? t("linesOf", { shown: count(shown.length, "linesOne", "lines"), all: lines.length })
                  : count(lines.length, "linesOne", "lines")}
              </p>
              {lines.length === 0 ? (
                <Empty text={t("logEmpty")} />
              ) : (
                <pre ref={pre} class="log" tabIndex={0} aria-label={t("appLog")} data-testid="log-lines">
                  {shown.map((l, i) => (
                    <span key={i} class={`log-line ${levelOf(l)}`}>
                      {l}
                    </span>
                  ))}
                </pre>
              )}
            </>
          )}
        </>
      )}
    </section>
  );
}

/** One error log, read in place. */
function ErrorLog(props: { name: string; onClose: () => void }) {
  const [text, setText] = useState<string | null>(null);
  const [err, setErr] = useState<Explained | null>(null);
  useEffect(() => {
    void api()
      .GET("/request-error-logs/{name}", { params: { path: { name: props.name } }, parseAs: "text" })
      .then((r) => (r.response.ok && typeof r.data === "string" ? setText(r.data) : setErr(explain(r))));
  }, [props.name]);
  return (
    <Modal title={props.name} onCancel={props.onClose} wide>
      <Problem err={err} />
      {text === null && !err && <Loading />}
      {text !== null && (
        <pre class="log" tabIndex={0} data-testid="error-log-text">
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

function ErrorLogs() {
  const [files, setFiles] = useState<Schemas["RequestErrorLogList"]["files"] | null>(null);
  const [err, setErr] = useState<Explained | null>(null);
  const [open, setOpen] = useState<string | null>(null);
  const [query, setQuery] = useState("");
  async function load() {
    const r = await api().GET("/request-error-logs");
    if (r.data) {
      setFiles(r.data.files);
      setErr(null);
    } else setErr(explain(r));
  }
  useEffect(() => void load(), []);
  const shown = (files ?? []).filter((f) => f.name.toLowerCase().includes(query.trim().toLowerCase()));
  return (
    <section aria-labelledby="errlog-h">
      <div class="row spread">
        <h2 id="errlog-h">{t("errorLogs")}</h2>
        <button type="button" onClick={() => void load()}>
          {t("reload")}
        </button>
      </div>
      <p class="hint">{t("errorLogsIntro")}</p>
      <Problem err={err} onRetry={() => void load()} />
      {files === null && !err && <Loading />}
      {files && files.length === 0 && <Empty text={t("noErrorLogs")} />}
      {files && files.length > 0 && (
        <>
          <div class="toolbar">
            <label class="sr-only" for="errlog-search">
              {t("search")}
            </label>
            <input
              id="errlog-search"
              type="search"
              placeholder={t("searchFiles")}
              value={query}
              onInput={(e) => setQuery((e.currentTarget as HTMLInputElement).value)}
            />
            <span class="muted">{count(shown.length, "filesOne", "filesMany")}</span>
          </div>
          <div class="scroll">
            <table class="collapse" data-testid="error-logs">
              <thead>
                <tr>
                  <th scope="col">{t("name")}</th>
                  <th scope="col" class="num">
                    {t("size")}
                  </th>
                  <th scope="col">{t("modified")}</th>
                  <th scope="col">{t("actions")}</th>
                </tr>
              </thead>
              <tbody>
                {shown.map((f) => (
                  <tr key={f.name}>
                    <td class="mono" data-label={t("name")}>
                      {f.name}
                    </td>
                    <td class="num" data-label={t("size")}>
                      {fmtBytes(f.size)}
                    </td>
                    <td data-label={t("modified")} title={fmtDate(f.modified, true)}>
                      <Time at={f.modified} />
                    </td>
                    <td data-label={t("actions")}>
                      <div class="row">
                        <button type="button" class="small" onClick={() => setOpen(f.name)} aria-label={`${t("view")}: ${f.name}`}>
                          {t("view")}
                        </button>
                        <button
                          type="button"
                          class="small"
                          aria-label={`${t("download")}: ${f.name}`}
                          onClick={async () => {
                            const r = await api().GET("/request-error-logs/{name}", {
                              params: { path: { name: f.name } },
                              parseAs: "blob",
                            });
                            if (r.response.ok && r.data) await download(new Response(r.data as Blob), f.name);
                            else toast("error", explain(r).text);
                          }}
                        >
                          {t("download")}
                        </button>
                      </div>
                    </td>
                  </tr>
                ))}
              </tbody>
            </table>
          </div>
        </>
      )}
      {open && <ErrorLog name={open} onClose={() => setOpen(null)} />}
    </section>
  );
}

/** A request log by its id (X-Request-ID of any proxied response). */
function ByID() {
  const [id, setId] = useState("");
  const [open, setOpen] = useState<string | null>(null);
  const [text, setText] = useState<string | null>(null);
  const [err, setErr] = useState<Explained | null>(null);
  useEffect(() => {
    if (!open) return;
    setText(null);
    setErr(null);
    void api()
      .GET("/request-log-by-id/{id}", { params: { path: { id: open } }, parseAs: "text" })
      .then((r) => {
        if (r.response.ok && typeof r.data === "string") setText(r.data);
        else setErr(r.response.status === 404 ? { ...explain(r), text: t("noRequestLog") } : explain(r));
      });
  }, [open]);
  return (
    <section aria-labelledby="byid-h">
      <h2 id="byid-h">{t("requestLogById")}</h2>
      <form
        class="toolbar"
        onSubmit={(e) => {
          e.preventDefault();
          if (id.trim()) setOpen(id.trim());
        }}
      >
        <label class="sr-only" for="byid">
          {t("requestId")}
        </label>
        <input id="byid" type="text" class="mono" placeholder={t("requestId")} value={id} spellcheck={false} onInput={(e) => setId((e.currentTarget as HTMLInputElement).value)} />
        <button type="submit">{t("open")}</button>
      </form>
      {open && (
        <Modal title={t("requestLogOf", { id: open })} onCancel={() => setOpen(null)} wide>
          <Problem err={err} />
          {text === null && !err && <Loading />}
          {text !== null && (
            <pre class="log" tabIndex={0}>
              {text}
            </pre>
          )}
          <div class="row end">
            <button type="button" onClick={() => setOpen(null)} autofocus>
              {t("close")}
            </button>
          </div>
        </Modal>
      )}
    </section>
  );
}

export function Logs() {
  useLang();
  return (
    <Page title={t("logs")} intro={t("logsIntro")}>
      <AppLog />
      <ErrorLogs />
      <ByID />
    </Page>
  );
}
