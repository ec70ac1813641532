import type { Schemas } from "@cli-proxy-api/management-client";
import { useEffect, useRef, useState } from "preact/hooks";
import { download, explain, type Explained } from "../api";
import { t, useLang } from "../i18n";
import { api, askConfirm, toast, useStore } from "../store";
import { Page, Problem, fmtBytes } from "../ui";
import { setLoggingToFile } from "./settings";

const MAX_LINES = 5000;

export function Logs() {
  useLang();
  const s = useStore();
  const [lines, setLines] = useState<string[]>([]);
  const [err, setErr] = useState<Explained | null>(null);
  const [follow, setFollow] = useState(true);
  const after = useRef(0);
  const pre = useRef<HTMLPreElement>(null);
  const [files, setFiles] = useState<Schemas["RequestErrorLogList"]["files"] | null>(null);
  const [filesErr, setFilesErr] = useState<Explained | null>(null);

  async function tail(reset = false) {
    if (reset) {
      after.current = 0;
      setLines([]);
    }
    const r = await api().GET("/logs", { params: { query: after.current ? { after: after.current } : { limit: 500 } } });
    if (!r.data) {
      setErr(explain(r));
      return;
    }
    setErr(null);
    const d = r.data;
    if (d["latest-timestamp"]) after.current = d["latest-timestamp"];
    if (d.lines.length) {
      setLines((old) => [...old, ...d.lines].slice(-MAX_LINES));
      requestAnimationFrame(() => pre.current?.scrollTo({ top: pre.current.scrollHeight }));
    }
  }

  async function loadFiles() {
    const r = await api().GET("/request-error-logs");
    if (r.data) {
      setFiles(r.data.files);
      setFilesErr(null);
    } else setFilesErr(explain(r));
  }

  useEffect(() => {
    void tail(true);
    void loadFiles();
  }, [s.cfg?.["logging-to-file"]]);

  useEffect(() => {
    if (!follow || err) return;
    const id = setInterval(() => void tail(), 2000);
    return () => clearInterval(id);
  }, [follow, err]);

  const loggingOff = err?.status === 400 && /logging to file/i.test(err.text);
  return (
    <Page title={t("logs")}>
      <section aria-labelledby="applog-h">
        <div class="row spread">
          <h2 id="applog-h">{t("appLog")}</h2>
          <div class="row">
            <label class="toggle">
              <input type="checkbox" checked={follow} onChange={(e) => setFollow((e.currentTarget as HTMLInputElement).checked)} />{" "}
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
                if (!(await askConfirm(t("clearLogs") + "?"))) return;
                const r = await api().DELETE("/logs");
                if (r.data) {
                  toast("ok", t("saved"));
                  void tail(true);
                } else toast("error", explain(r).text);
              }}
            >
              {t("clearLogs")}
            </button>
          </div>
        </div>
        {loggingOff ? (
          <div class="notice" data-testid="logging-off">
            <p>{t("loggingOff")}</p>
            <button type="button" class="primary" onClick={() => void setLoggingToFile(true)}>
              {t("enableLogging")}
            </button>
          </div>
        ) : (
          <Problem err={err} />
        )}
        {!err && (
          <>
            <p class="muted">{t("lines", { n: lines.length })}</p>
            <pre ref={pre} class="log" tabIndex={0} aria-label={t("appLog")} data-testid="log-lines">
              {lines.join("\n")}
            </pre>
          </>
        )}
      </section>
      <section aria-labelledby="errlog-h">
        <h2 id="errlog-h">{t("errorLogs")}</h2>
        <Problem err={filesErr} />
        {files && files.length === 0 && <p class="muted">{t("empty")}</p>}
        {files && files.length > 0 && (
          <div class="scroll">
            <table>
              <thead>
                <tr>
                  <th scope="col">{t("name")}</th>
                  <th scope="col">{t("size")}</th>
                  <th scope="col">{t("modified")}</th>
                  <th scope="col" />
                </tr>
              </thead>
              <tbody>
                {files.map((f) => (
                  <tr key={f.name}>
                    <td class="mono">{f.name}</td>
                    <td>{fmtBytes(f.size)}</td>
                    <td>{new Date(f.modified * 1000).toLocaleString()}</td>
                    <td>
                      <button
                        type="button"
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
                    </td>
                  </tr>
                ))}
              </tbody>
            </table>
          </div>
        )}
      </section>
    </Page>
  );
}
