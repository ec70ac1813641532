import { useEffect, useRef, useState } from "preact/hooks";
import { etagOf, explain, networkError, type Explained } from "../api";
import { t, useLang } from "../i18n";
import { api, askConflict, loadConfig, toast } from "../store";
import { Loading, Page, Problem } from "../ui";
import type { YamlEditor } from "../editor";
import { askPreview } from "../widgets";
import { withIfMatch } from "@cli-proxy-api/management-client";

/** The line a validation message names ("line 12", "yaml: line 12: …"), if any. */
export function lineOf(msg: string): number | null {
  const m = /\bline (\d+)/i.exec(msg);
  return m ? Number(m[1]) : null;
}

export function ConfigYaml() {
  useLang();
  const host = useRef<HTMLDivElement>(null);
  const editor = useRef<YamlEditor | null>(null);
  const [err, setErr] = useState<Explained | null>(null);
  const [saveErr, setSaveErr] = useState<string>("");
  const [warnings, setWarnings] = useState<string[]>([]);
  const [dirty, setDirty] = useState(false);
  const [busy, setBusy] = useState(false);
  const [ready, setReady] = useState(false);
  const loaded = useRef<{ text: string; etag: string | undefined }>({ text: "", etag: undefined });

  async function load() {
    const r = await api().getConfigYAML();
    if (r.data === undefined) {
      setErr(explain(r));
      return;
    }
    setErr(null);
    loaded.current = { text: r.data, etag: etagOf(r) };
    editor.current?.setText(r.data);
    setDirty(false);
    setReady(true);
  }

  useEffect(() => {
    let alive = true;
    void import("../editor").then(async (m) => {
      if (!alive || !host.current) return;
      editor.current = m.createYamlEditor(host.current, "", () => {
        setDirty(editor.current?.getText() !== loaded.current.text);
      });
      await load();
    });
    return () => {
      alive = false;
      editor.current?.destroy();
    };
  }, []);

  /** The text as the server would store it, without storing it (?dryRun=true). */
  function dryRun(text: string, ifMatch: string | undefined) {
    return api().PUT("/config.yaml", {
      body: text,
      bodySerializer: (body: string) => body,
      headers: { "Content-Type": "application/yaml" },
      params: { query: { dryRun: true }, header: withIfMatch(ifMatch) },
    });
  }

  /** Shows the dry run's diff and warnings; saves only when the user confirms. */
  async function previewThenSave() {
    const ed = editor.current;
    if (!ed) return;
    const text = ed.getText();
    setBusy(true);
    setSaveErr("");
    ed.setError(null);
    let r: Awaited<ReturnType<typeof dryRun>>;
    try {
      r = await dryRun(text, loaded.current.etag);
    } catch (e) {
      setBusy(false);
      setSaveErr(networkError(e).text);
      return;
    }
    setBusy(false);
    if (!r.data) {
      // A refused file (422 with its line) or a conflict (412): the save path says it best.
      if (r.response.status === 412) return save(loaded.current.etag);
      const e = explain(r);
      const msg = e.message || e.text;
      const line = lineOf(msg);
      setSaveErr(line ? t("errorAtLine", { line, msg }) : msg);
      if (line) ed.setError({ line, message: msg });
      return;
    }
    const warned = r.data.warnings ?? [];
    const intro = [t("yamlPreviewIntro"), ...(r.data.changed.length ? [t("wouldChange", { keys: r.data.changed.join(", ") })] : [])].join(" ");
    const yes = await askPreview({
      title: t("yamlPreviewTitle"),
      intro,
      diff: r.data.diff ?? "",
      items: warned.length ? warned.map((w) => `${t("warning")}: ${w}`) : undefined,
      confirm: t("save"),
    });
    if (yes) await save(loaded.current.etag);
  }

  async function save(ifMatch: string | undefined) {
    const ed = editor.current;
    if (!ed) return;
    const text = ed.getText();
    setBusy(true);
    setSaveErr("");
    setWarnings([]);
    ed.setError(null);
    const r = await api().putConfigYAML(text, ifMatch);
    setBusy(false);
    if (r.data) {
      loaded.current = { text, etag: etagOf(r) };
      setDirty(false);
      const warned = r.data.warnings ?? [];
      setWarnings(warned);
      if (warned.length) toast("info", t("configWarnings"));
      else toast("ok", r.data.changed.length ? t("changedKeys", { keys: r.data.changed.join(", ") }) : t("saved"));
      await loadConfig();
      // The server may have rewritten the file (a hashed secret): show what is stored.
      const again = await api().getConfigYAML();
      if (again.data !== undefined && again.data !== text) {
        loaded.current = { text: again.data, etag: etagOf(again) };
        ed.setText(again.data);
      } else if (again.data !== undefined) {
        loaded.current.etag = etagOf(again);
      }
      return;
    }
    const e = explain(r);
    if (r.response.status === 412) {
      const fresh = await api().getConfigYAML();
      const theirs = fresh.data ?? "";
      if (theirs === loaded.current.text) {
        // Only the revision moved (an edit was undone): write again.
        loaded.current.etag = etagOf(fresh);
        return save(loaded.current.etag);
      }
      const mine = await askConflict("config.yaml", loaded.current.text, theirs, text);
      if (mine) {
        loaded.current = { text: theirs, etag: etagOf(fresh) };
        return save(loaded.current.etag);
      }
      loaded.current = { text: theirs, etag: etagOf(fresh) };
      ed.setText(theirs);
      setDirty(false);
      return;
    }
    const msg = e.message || e.text;
    const line = lineOf(msg);
    setSaveErr(line ? t("errorAtLine", { line, msg }) : msg);
    if (line) ed.setError({ line, message: msg });
  }

  return (
    <Page
      title={t("configYaml")}
      intro={t("configIntro")}
      actions={
        <>
          <span class="muted" role="status" data-testid="yaml-state">
            {dirty ? t("unsaved") : t("noChanges")}
          </span>
          <button type="button" onClick={() => void load()}>
            {t("reload")}
          </button>
          <button
            type="button"
            class="primary"
            disabled={busy || !dirty}
            data-testid="yaml-save"
            onClick={() => void previewThenSave()}
          >
            {t("save")}
          </button>
        </>
      }
    >
      <Problem key="problem" err={err} onRetry={() => void load()} />
      {!ready && !err && <Loading key="loading" />}
      {saveErr && (
        <div key="error" class="notice error" role="alert" data-testid="yaml-error">
          <p>{saveErr}</p>
        </div>
      )}
      {warnings.length > 0 && (
        <div key="warnings" class="notice" role="alert" data-testid="yaml-warnings">
          <p>{t("configWarnings")}</p>
          <ul>
            {warnings.map((w) => (
              <li key={w} class="mono">
                {w}
              </li>
            ))}
          </ul>
        </div>
      )}
      <div key="editor" ref={host} class="yaml-editor" data-testid="yaml-editor" />
    </Page>
  );
}
