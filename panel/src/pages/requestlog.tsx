// One request's log by its request ID (the X-Request-ID every proxied
// answer carries): pasted here, or opened from a page that shows the ID.
import { useEffect, useState } from "preact/hooks";
import { explain, networkError, type Explained } from "../api";
import { t, useLang } from "../i18n";
import { takeRequestLogID } from "../links";
import { api } from "../store";
import { Page, Problem, useId } from "../ui";
import { CopyButton } from "../widgets";

const ID = /^[A-Za-z0-9-]{1,64}$/;

export function RequestLog() {
  useLang();
  const inputId = useId("rid");
  const [id, setId] = useState(() => takeRequestLogID() ?? "");
  const [text, setText] = useState<string | null>(null);
  const [err, setErr] = useState<Explained | null>(null);
  const [busy, setBusy] = useState(false);

  async function load(rid: string) {
    setText(null);
    setErr(null);
    if (!ID.test(rid)) {
      setErr({ status: 400, kind: "invalid", text: t("requestIdInvalid"), message: "" });
      return;
    }
    setBusy(true);
    try {
      const r = await api().GET("/request-log-by-id/{id}", { params: { path: { id: rid } }, parseAs: "text" });
      if (r.response.ok) setText((r.data as string | undefined) ?? "");
      else if (r.response.status === 404) setErr({ status: 404, kind: "other", text: t("requestLogMissing", { id: rid }), message: "" });
      else setErr(explain(r));
    } catch (e) {
      setErr(networkError(e));
    }
    setBusy(false);
  }

  useEffect(() => {
    if (id) void load(id);
  }, []);

  return (
    <Page title={t("requestLog")} intro={t("requestLogIntro")}>
      <form
        class="filters"
        onSubmit={(e) => {
          e.preventDefault();
          void load(id.trim());
        }}
      >
        <div class="field">
          <label for={inputId}>{t("fxRequestId")}</label>
          <input
            id={inputId}
            value={id}
            class="mono"
            autocomplete="off"
            spellcheck={false}
            required
            data-testid="request-id"
            onInput={(e) => setId((e.currentTarget as HTMLInputElement).value)}
          />
        </div>
        <button type="submit" class="primary" disabled={busy} data-testid="request-log-show">
          {t("fxShow")}
        </button>
      </form>
      <Problem err={err} />
      {text !== null && (
        <>
          <div class="row">
            <CopyButton text={text} />
          </div>
          <pre class="log" data-testid="request-log-text" tabIndex={0}>
            {text || t("empty")}
          </pre>
        </>
      )}
    </Page>
  );
}
