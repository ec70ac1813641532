import type { Schemas } from "@cli-proxy-api/management-client";
import { useEffect, useRef, useState } from "preact/hooks";
import { download, explain, type Explained } from "../api";
import { t, useLang } from "../i18n";
import { api, askConfirm, toast } from "../store";
import { Page, Problem, fmtBytes } from "../ui";

export function AuthFiles() {
  useLang();
  const [files, setFiles] = useState<Schemas["AuthFile"][] | null>(null);
  const [err, setErr] = useState<Explained | null>(null);
  const [over, setOver] = useState(false);
  const input = useRef<HTMLInputElement>(null);

  async function load() {
    const r = await api().GET("/auth-files");
    if (r.data) {
      setFiles(r.data.files);
      setErr(null);
    } else setErr(explain(r));
  }
  useEffect(() => void load(), []);

  async function upload(list: FileList | File[]) {
    const arr = Array.from(list);
    if (!arr.length) return;
    const form = new FormData();
    for (const f of arr) form.append("file", f, f.name);
    const r = await api().POST("/auth-files", {
      // multipart: the browser sets the boundary.
      body: form as unknown as { file: string },
      bodySerializer: (b: unknown) => b as FormData,
    });
    if (r.response.ok) toast("ok", t("uploaded", { n: arr.length }));
    else toast("error", explain(r).text);
    await load();
  }

  const notimpl = err?.kind === "notimpl";
  return (
    <Page
      title={t("authFiles")}
      actions={
        !notimpl && (
          <button
            type="button"
            class="danger"
            disabled={!files?.length}
            data-testid="auth-delete-all"
            onClick={async () => {
              if (!(await askConfirm(t("confirmDeleteAll", { n: files?.length ?? 0 })))) return;
              const r = await api().DELETE("/auth-files", { params: { query: { all: "true" } } });
              if (r.response.ok) toast("ok", t("saved"));
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
            class="sr-only"
            tabIndex={-1}
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
      {files && files.length === 0 && <p class="muted">{t("empty")}</p>}
      {files && files.length > 0 && (
        <div class="scroll">
          <table data-testid="auth-table">
            <thead>
              <tr>
                <th scope="col">{t("name")}</th>
                <th scope="col">{t("type")}</th>
                <th scope="col">{t("email")}</th>
                <th scope="col">{t("size")}</th>
                <th scope="col">{t("modified")}</th>
                <th scope="col" />
              </tr>
            </thead>
            <tbody>
              {files.map((f) => (
                <tr key={f.name}>
                  <td class="mono">{f.name}</td>
                  <td>{f.provider ?? f.type ?? ""}</td>
                  <td>{f.email ?? f.label ?? ""}</td>
                  <td>{f.size != null ? fmtBytes(f.size) : ""}</td>
                  <td>{f.modtime ? new Date(f.modtime).toLocaleString() : ""}</td>
                  <td class="row">
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
                        if (r.response.ok) toast("ok", t("saved"));
                        else toast("error", explain(r).text);
                        await load();
                      }}
                    >
                      {t("delete")}
                    </button>
                  </td>
                </tr>
              ))}
            </tbody>
          </table>
        </div>
      )}
    </Page>
  );
}
