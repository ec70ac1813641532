// Credential files in auth-dir: search, filter by provider and status, and
// page through hundreds of them; per file its status (why it is not used,
// when it is retried), priority, recent successes and failures, cooldowns
// and models; enable/disable, download, delete. An upload checks each file
// first and names every one that cannot be uploaded, uploading the others.
import type { Schemas } from "@cli-proxy-api/management-client";
import { useEffect, useMemo, useRef, useState } from "preact/hooks";
import { download, explain, networkError, type Explained } from "../api";
import { useCooldowns, type Cooldown } from "../credentials";
import { t, useLang, type TKey } from "../i18n";
import { useLiveTick } from "../live";
import { api, askConfirm, toast } from "../store";
import { Empty, Loading, Page, Problem, count, fmtBytes, fmtNum, useId } from "../ui";
import { Badge, Pager, When, askPreview } from "../widgets";
import { AuthFieldsEditor } from "./authfields";

type AuthFile = Schemas["AuthFile"];

const PER_PAGE = 25;
const MAX_FILE = 1024 * 1024;
const BATCH = 100;

/** What the proxy makes of a file, one word: cooling wins over active. */
function statusOf(f: AuthFile, cooling: boolean): string {
  if (f.disabled || f.status === "disabled") return "disabled";
  if (f.status === "invalid") return "invalid";
  if (f.unavailable || f.status === "unavailable") return "unavailable";
  if (cooling) return "cooling";
  return f.status ?? "unknown";
}

const STATUS_KIND: Record<string, "ok" | "warn" | "bad" | "info"> = {
  active: "ok",
  disabled: "warn",
  cooling: "warn",
  unavailable: "bad",
  invalid: "bad",
  unknown: "info",
};

interface Rejected {
  name: string;
  why: string;
}

/** Checks files before upload: name, size, a JSON object. */
async function precheck(files: File[]): Promise<{ good: File[]; bad: Rejected[] }> {
  const good: File[] = [];
  const bad: Rejected[] = [];
  for (const f of files) {
    if (!/\.json$/i.test(f.name)) bad.push({ name: f.name, why: t("upNotJsonName") });
    else if (f.name.startsWith(".") || f.name.includes("..") || f.name.length > 128) bad.push({ name: f.name, why: t("upBadName") });
    else if (f.size > MAX_FILE) bad.push({ name: f.name, why: t("upTooLarge") });
    else {
      try {
        const v: unknown = JSON.parse(await f.text());
        if (!v || typeof v !== "object" || Array.isArray(v)) bad.push({ name: f.name, why: t("upNotObject") });
        else good.push(f);
      } catch (e) {
        bad.push({ name: f.name, why: t("upBadJson", { detail: e instanceof Error ? e.message : String(e) }) });
      }
    }
  }
  return { good, bad };
}

async function send(files: File[]): Promise<Explained | null> {
  const form = new FormData();
  for (const f of files) form.append("file", f, f.name);
  try {
    const r = await api().POST("/auth-files", {
      // multipart: the browser sets the boundary.
      body: form as unknown as { file: string },
      bodySerializer: (b: unknown) => b as FormData,
    });
    return r.response.ok ? null : explain(r);
  } catch (e) {
    return networkError(e);
  }
}

function Models(props: { name: string }) {
  useLang();
  const [models, setModels] = useState<Schemas["AuthFileModels"]["models"] | null>(null);
  const [err, setErr] = useState<Explained | null>(null);
  useEffect(() => {
    void (async () => {
      try {
        const r = await api().GET("/auth-files/models", { params: { query: { name: props.name } } });
        if (r.data) setModels(r.data.models);
        else setErr(explain(r));
      } catch (e) {
        setErr(networkError(e));
      }
    })();
  }, [props.name]);
  if (err) return <Problem err={err} />;
  if (!models) return <p class="muted">{t("fxLoading")}</p>;
  if (!models.length) return <p class="muted">{t("noModels")}</p>;
  return (
    <p class="mono" data-testid="auth-models">
      {models.map((m) => m.id).join(", ")}
    </p>
  );
}

function Row(props: { f: AuthFile; cooldowns: Cooldown[]; onChanged: () => Promise<void>; onReset: (name: string) => Promise<void> }) {
  useLang();
  const { f } = props;
  const [open, setOpen] = useState(false);
  const [editing, setEditing] = useState(false);
  // While a change is saved the switch shows it; afterwards the server's state.
  const [pending, setPending] = useState<boolean | null>(null);
  const st = statusOf(f, props.cooldowns.length > 0);
  const recentOk = (f.recent_requests ?? []).reduce((n, b) => n + b.success, 0);
  const recentBad = (f.recent_requests ?? []).reduce((n, b) => n + b.failed, 0);

  async function toggle(enable: boolean) {
    setPending(enable);
    try {
      const r = await api().PATCH("/auth-files/status", { body: { name: f.name, disabled: !enable } });
      if (r.data) toast("ok", t(enable ? "fileEnabled" : "fileDisabled", { name: f.name }));
      else toast("error", `${t("failed")}: ${explain(r).text}`);
    } catch (e) {
      toast("error", networkError(e).text);
    }
    await props.onChanged();
    setPending(null);
  }

  return (
    <>
      <tr data-testid="auth-row">
        <td data-label={t("name")}>
          <span class="mono">{f.name}</span>
          {(f.email || f.label) && <div class="muted">{f.email ?? f.label}</div>}
          {f.note && (
            <div class="muted" data-testid="auth-note">
              {f.note}
            </div>
          )}
        </td>
        <td data-label={t("type")}>{f.provider ?? f.type ?? ""}</td>
        <td data-label={t("status")}>
          <Badge kind={STATUS_KIND[st] ?? "info"} testid="auth-status">
            {t(`st_${st}` as TKey) ?? st}
          </Badge>
          {(f.last_error || f.status_message) && <div class="muted">{f.last_error ?? f.status_message}</div>}
          {(f.next_retry || f.next_retry_after) && (
            <div class="muted">
              {t("nextRetry")} <When at={f.next_retry ?? f.next_retry_after} />
            </div>
          )}
          {props.cooldowns.map((c) => (
            <div class="muted" key={c.model}>
              {c.model}: {t(`cooldown_${c.reason.replace("-", "_")}` as TKey)} · <When at={c.until} />
            </div>
          ))}
        </td>
        <td data-label={t("fxPriority")} data-testid="auth-priority">
          {f.priority ?? 0}
          {f.weight != null && f.weight > 0 && (
            <div class="muted">
              {t("fxWeight")} {f.weight}
            </div>
          )}
        </td>
        <td data-label={t("successFailed")}>
          <span class="good">{fmtNum(f.success ?? recentOk)}</span> / <span class={(f.failed ?? recentBad) ? "bad" : ""}>{fmtNum(f.failed ?? recentBad)}</span>
        </td>
        <td data-label={t("modified")}>
          <When at={f.modtime} />
          {f.size != null && <div class="muted">{fmtBytes(f.size)}</div>}
        </td>
        <td>
          <div class="row">
            <label class="toggle">
              <input
                type="checkbox"
                role="switch"
                checked={pending ?? !f.disabled}
                aria-busy={pending !== null}
                data-testid="auth-enabled"
                aria-label={`${t("fxEnabled")}: ${f.name}`}
                onChange={(e) => void toggle((e.currentTarget as HTMLInputElement).checked)}
              />
              {t("fxEnabled")}
            </label>
            <button type="button" aria-expanded={editing} onClick={() => setEditing(!editing)} aria-label={`${t("edit")}: ${f.name}`} data-testid="auth-edit">
              {t("edit")}
            </button>
            <button type="button" aria-expanded={open} onClick={() => setOpen(!open)} aria-label={`${t("modelsShort")}: ${f.name}`}>
              {t("modelsShort")}
            </button>
            {(props.cooldowns.length > 0 || st === "unavailable") && (
              <button type="button" onClick={() => void props.onReset(f.name)} aria-label={`${t("resetCooldown")}: ${f.name}`} data-testid="auth-reset-cooldown">
                {t("resetCooldown")}
              </button>
            )}
            <button
              type="button"
              aria-label={`${t("download")}: ${f.name}`}
              onClick={async () => {
                const r = await api().GET("/auth-files/download", { params: { query: { name: f.name } }, parseAs: "blob" });
                if (r.response.ok && r.data) await download(new Response(r.data as Blob), f.name);
                else toast("error", explain(r).text);
              }}
            >
              {t("download")}
            </button>
            <button
              type="button"
              class="danger"
              aria-label={`${t("delete")}: ${f.name}`}
              onClick={async () => {
                if (!(await askConfirm(t("confirmDelete", { what: f.name })))) return;
                const r = await api().DELETE("/auth-files", { params: { query: { name: f.name } } });
                if (r.response.ok) toast("ok", t("fileDeleted", { name: f.name }));
                else toast("error", explain(r).text);
                await props.onChanged();
              }}
            >
              {t("delete")}
            </button>
          </div>
        </td>
      </tr>
      {editing && (
        <tr class="detail">
          <td colSpan={7}>
            <AuthFieldsEditor
              name={f.name}
              onDone={(saved) => {
                setEditing(false);
                if (saved) void props.onChanged();
              }}
            />
          </td>
        </tr>
      )}
      {open && (
        <tr class="detail">
          <td colSpan={7}>
            <Models name={f.name} />
          </td>
        </tr>
      )}
    </>
  );
}

export function AuthFiles() {
  useLang();
  const tick = useLiveTick();
  const cd = useCooldowns();
  const [files, setFiles] = useState<AuthFile[] | null>(null);
  const [err, setErr] = useState<Explained | null>(null);
  const [over, setOver] = useState(false);
  const [query, setQuery] = useState("");
  const [provider, setProvider] = useState("");
  const [status, setStatus] = useState("");
  const [page, setPage] = useState(0);
  const [report, setReport] = useState<{ ok: string[]; bad: Rejected[] } | null>(null);
  const input = useRef<HTMLInputElement>(null);
  const ids = { q: useId("q"), p: useId("prov"), s: useId("st") };

  async function load() {
    try {
      const r = await api().GET("/auth-files");
      if (r.data) {
        setFiles(r.data.files);
        setErr(null);
      } else setErr(explain(r));
    } catch (e) {
      setErr(networkError(e));
    }
  }
  useEffect(() => void load(), [tick]);

  async function upload(list: FileList | File[]) {
    const arr = Array.from(list);
    if (!arr.length) return;
    const { good, bad } = await precheck(arr);
    const done: string[] = [];
    // Batches of at most BATCH (the server's limit); when the server refuses
    // a batch, one request per file, so each refusal is named.
    for (let i = 0; i < good.length; i += BATCH) {
      const part = good.slice(i, i + BATCH);
      const whole = await send(part);
      if (!whole) done.push(...part.map((f) => f.name));
      else if (part.length === 1) bad.push({ name: part[0]!.name, why: whole.text });
      else
        for (const f of part) {
          const one = await send([f]);
          if (one) bad.push({ name: f.name, why: one.text });
          else done.push(f.name);
        }
    }
    setReport({ ok: done, bad });
    if (done.length) toast("ok", count(done.length, "uploadedOne", "uploaded"));
    if (bad.length) toast("error", count(bad.length, "uploadRejectedOne", "uploadRejected"));
    await load();
  }

  const coolingOf = useMemo(() => {
    const m = new Map<string, Cooldown[]>();
    for (const c of cd.list ?? []) {
      if (!c.credential.startsWith("auth-file:")) continue;
      const name = c.credential.slice("auth-file:".length).split("#")[0]!;
      m.set(name, [...(m.get(name) ?? []), c]);
    }
    return m;
  }, [cd.list]);

  const providers = useMemo(() => Array.from(new Set((files ?? []).map((f) => f.provider ?? f.type ?? "").filter(Boolean))).sort(), [files]);
  const shown = useMemo(() => {
    const q = query.trim().toLowerCase();
    return (files ?? []).filter((f) => {
      if (provider && (f.provider ?? f.type) !== provider) return false;
      if (status && statusOf(f, coolingOf.has(f.name)) !== status) return false;
      if (!q) return true;
      return [f.name, f.email, f.label, f.provider, f.type].some((x) => x?.toLowerCase().includes(q));
    });
  }, [files, query, provider, status, coolingOf]);
  const pages = Math.max(1, Math.ceil(shown.length / PER_PAGE));
  const at = Math.min(page, pages - 1);
  const rows = shown.slice(at * PER_PAGE, (at + 1) * PER_PAGE);

  /** Ends the file's cooldowns and quota rests (POST /reset-quota), then shows the new state. */
  async function resetQuota(name: string) {
    try {
      const r = await api().POST("/reset-quota", { body: { name } });
      if (r.data) toast("ok", t("quotaReset", { name, models: r.data.models.join(", ") || "—" }));
      else toast("error", `${t("failed")}: ${explain(r).text}`);
    } catch (e) {
      toast("error", networkError(e).text);
    }
    await Promise.all([cd.reload(), load()]);
  }

  const notimpl = err?.kind === "notimpl";
  return (
    <Page
      title={t("authFiles")}
      intro={t("authFilesIntro")}
      actions={
        !notimpl && (
          <button
            type="button"
            class="danger"
            disabled={!files?.length}
            data-testid="auth-delete-all"
            onClick={async () => {
              const names = (files ?? []).map((f) => f.name);
              const yes = await askPreview({
                title: t("confirm"),
                intro: t("confirmDeleteAll", { n: names.length }),
                items: names,
                confirm: t("confirm"),
                danger: true,
              });
              if (!yes) return;
              const r = await api().DELETE("/auth-files", { params: { query: { all: "true" } } });
              if (r.response.ok) toast("ok", count(names.length, "filesDeletedOne", "filesDeleted"));
              else toast("error", explain(r).text);
              await load();
            }}
          >
            {t("deleteAll")}
          </button>
        )
      }
    >
      <Problem err={err} onRetry={notimpl ? undefined : () => void load()} />
      {!notimpl && (
        <div
          class={over ? "drop over" : "drop"}
          data-testid="auth-drop"
          onDragOver={(e) => {
            e.preventDefault();
            setOver(true);
          }}
          onDragLeave={() => setOver(false)}
          onDrop={(e) => {
            e.preventDefault();
            setOver(false);
            if (e.dataTransfer?.files) void upload(e.dataTransfer.files);
          }}
        >
          <p>
            {t("dropHere")}{" "}
            <button type="button" onClick={() => input.current?.click()}>
              {t("chooseFiles")}
            </button>
          </p>
          <input
            ref={input}
            type="file"
            multiple
            accept="application/json,.json"
            hidden
            aria-label={t("chooseFiles")}
            data-testid="auth-upload"
            onChange={(e) => {
              const el = e.currentTarget as HTMLInputElement;
              if (el.files) void upload(Array.from(el.files));
              el.value = "";
            }}
          />
        </div>
      )}
      {report && (report.bad.length > 0 || report.ok.length > 0) && (
        <div class={report.bad.length ? "notice error" : "notice"} role="alert" data-testid="upload-report">
          {report.ok.length > 0 && <p>{t("uploadedNames", { names: report.ok.join(", ") })}</p>}
          {report.bad.length > 0 && (
            <>
              <p>{count(report.bad.length, "uploadRejectedOne", "uploadRejected")}</p>
              <ul>
                {report.bad.map((b) => (
                  <li key={b.name}>
                    <span class="mono">{b.name}</span>: {b.why}
                  </li>
                ))}
              </ul>
            </>
          )}
          <button type="button" onClick={() => setReport(null)}>
            {t("fxDismiss")}
          </button>
        </div>
      )}
      {files && files.length > 0 && (
        <form class="filters" role="search" onSubmit={(e) => e.preventDefault()}>
          <div class="field">
            <label for={ids.q}>{t("fxSearch")}</label>
            <input
              id={ids.q}
              type="search"
              value={query}
              autocomplete="off"
              placeholder={t("searchFilesHint")}
              data-testid="auth-search"
              onInput={(e) => {
                setQuery((e.currentTarget as HTMLInputElement).value);
                setPage(0);
              }}
            />
          </div>
          <div class="field narrow">
            <label for={ids.p}>{t("provider")}</label>
            <select
              id={ids.p}
              value={provider}
              data-testid="auth-provider"
              onChange={(e) => {
                setProvider((e.currentTarget as HTMLSelectElement).value);
                setPage(0);
              }}
            >
              <option value="">{t("fxAll")}</option>
              {providers.map((p) => (
                <option key={p} value={p}>
                  {p}
                </option>
              ))}
            </select>
          </div>
          <div class="field narrow">
            <label for={ids.s}>{t("status")}</label>
            <select
              id={ids.s}
              value={status}
              data-testid="auth-status-filter"
              onChange={(e) => {
                setStatus((e.currentTarget as HTMLSelectElement).value);
                setPage(0);
              }}
            >
              <option value="">{t("fxAll")}</option>
              {["active", "disabled", "cooling", "unavailable", "invalid"].map((s) => (
                <option key={s} value={s}>
                  {t(`st_${s}` as TKey)}
                </option>
              ))}
            </select>
          </div>
        </form>
      )}
      {!files && !err && <Loading />}
      {files && files.length === 0 && (
        <Empty text={t("authFilesEmpty")}>
          <p>
            <a href="#/oauth">{t("authFilesEmptyLogin")}</a>
          </p>
        </Empty>
      )}
      {files && files.length > 0 && shown.length === 0 && <Empty text={t("authFilesNoMatch")} />}
      {files && files.length > 0 && (
        <p class="muted" aria-live="polite" data-testid="auth-count">
          {t("filesShown", { n: shown.length, total: files.length })}
        </p>
      )}
      {rows.length > 0 && (
        <div class="scroll">
          <table data-testid="auth-table" class="table-cards">
            <thead>
              <tr>
                <th scope="col">{t("name")}</th>
                <th scope="col">{t("type")}</th>
                <th scope="col">{t("status")}</th>
                <th scope="col">{t("fxPriority")}</th>
                <th scope="col">{t("successFailed")}</th>
                <th scope="col">{t("modified")}</th>
                <th scope="col">
                  <span class="sr-only">{t("fxActions")}</span>
                </th>
              </tr>
            </thead>
            <tbody>
              {rows.map((f) => (
                <Row key={f.name} f={f} cooldowns={coolingOf.get(f.name) ?? []} onChanged={load} onReset={resetQuota} />
              ))}
            </tbody>
          </table>
        </div>
      )}
      <Pager page={at} pages={pages} onPage={setPage} testid="auth-pager" />
    </Page>
  );
}

