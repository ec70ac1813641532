import { useEffect, useRef, useState } from "preact/hooks";
import { explain, networkError } from "../api";
import { t, useLang } from "../i18n";
import { api, toast } from "../store";
import { Page, useId } from "../ui";

type Provider = "anthropic" | "codex" | "gemini-cli" | "antigravity" | "qwen" | "iflow" | "kimi" | "xai";
// Device flows: the user confirms a code on the provider's page; there is
// no redirect to paste back.
const deviceFlows: Provider[] = ["qwen", "kimi", "xai"];
const providers: { id: Provider; name: string; callback: string }[] = [
  { id: "anthropic", name: "Claude (Anthropic)", callback: "anthropic" },
  { id: "codex", name: "Codex (OpenAI)", callback: "codex" },
  { id: "gemini-cli", name: "Gemini CLI (Google)", callback: "gemini" },
  { id: "antigravity", name: "Antigravity", callback: "antigravity" },
  { id: "qwen", name: "Qwen", callback: "qwen" },
  { id: "iflow", name: "iFlow", callback: "iflow" },
  { id: "kimi", name: "Kimi Code", callback: "kimi" },
  { id: "xai", name: "xAI (Grok)", callback: "xai" },
];

function start(p: Provider, project: string) {
  const q = { params: { query: { is_webui: "true" } } };
  switch (p) {
    case "anthropic":
      return api().GET("/anthropic-auth-url", q);
    case "codex":
      return api().GET("/codex-auth-url", q);
    case "gemini-cli":
      return api().GET("/gemini-cli-auth-url", { params: { query: { is_webui: "true", ...(project ? { project_id: project } : {}) } } });
    case "antigravity":
      return api().GET("/antigravity-auth-url", q);
    case "qwen":
      return api().GET("/qwen-auth-url");
    case "iflow":
      return api().GET("/iflow-auth-url", q);
    case "kimi":
      return api().GET("/kimi-auth-url");
    case "xai":
      return api().GET("/xai-auth-url");
  }
}

interface Flow {
  url: string;
  state: string;
  status: "wait" | "ok" | "error";
  error: string;
  userCode?: string;
}

function ProviderLogin(props: { id: Provider; name: string; callback: string }) {
  useLang();
  const [flow, setFlow] = useState<Flow | null>(null);
  const [err, setErr] = useState("");
  const pasteId = useId("paste");
  const projectId = useId("project");
  const [project, setProject] = useState("");
  const timer = useRef<ReturnType<typeof setInterval> | null>(null);

  useEffect(() => () => void (timer.current && clearInterval(timer.current)), []);

  function poll(state: string) {
    if (timer.current) clearInterval(timer.current);
    timer.current = setInterval(async () => {
      const r = await api().GET("/get-auth-status", { params: { query: { state } } });
      const st = r.data?.status ?? "error";
      const e = r.data?.error ?? (r.data ? "" : explain(r).text);
      if (st !== "wait") {
        if (timer.current) clearInterval(timer.current);
        timer.current = null;
      }
      setFlow((f) => (f ? { ...f, status: st, error: e } : f));
    }, 2000);
  }

  return (
    <li class="entry" data-testid={`oauth-${props.id}`}>
      <fieldset>
        <legend>{props.name}</legend>
        {props.id === "gemini-cli" && (
          <div class="field">
            <label for={projectId}>{t("gcpProject")}</label>
            <input
              id={projectId}
              value={project}
              class="mono"
              autocomplete="off"
              spellcheck={false}
              placeholder="my-project-123"
              aria-describedby={`${projectId}-hint`}
              data-testid="gemini-project"
              onInput={(e) => setProject((e.currentTarget as HTMLInputElement).value.trim())}
            />
            <small id={`${projectId}-hint`} class="hint">
              {t("gcpProjectHint")}
            </small>
          </div>
        )}
        <div class="row">
          <button
            type="button"
            class="primary"
            onClick={async () => {
              setErr("");
              const r = await start(props.id, project);
              if (!r.data) {
                setErr(explain(r).text);
                return;
              }
              setFlow({ url: r.data.url, state: r.data.state, status: "wait", error: "", userCode: r.data.user_code });
              window.open(r.data.url, "_blank", "noopener,noreferrer");
              poll(r.data.state);
            }}
          >
            {t("login")}
          </button>
          {flow && (
            <a href={flow.url} target="_blank" rel="noopener noreferrer">
              {t("openProvider")}
            </a>
          )}
          {flow?.userCode && (
            <span>
              {" "}
              {t("userCode")} <code data-testid="user-code">{flow.userCode}</code>
            </span>
          )}
        </div>
        {err && (
          <p class="notice error" role="alert">
            {err}
          </p>
        )}
        {flow && (
          <>
            <p role="status" class={flow.status === "ok" ? "good" : flow.status === "error" ? "bad" : ""}>
              {flow.status === "wait" ? t("waiting") : flow.status === "ok" ? t("loginOk") : t("loginError", { err: flow.error })}
            </p>
            {flow.status === "wait" && !deviceFlows.includes(props.id) && (
              <form
                onSubmit={async (e) => {
                  e.preventDefault();
                  const f = e.currentTarget as HTMLFormElement;
                  const redirect_url = (f.elements.namedItem("url") as HTMLInputElement).value.trim();
                  const r = await api().POST("/oauth-callback", { body: { provider: props.callback, redirect_url } });
                  if (r.response.ok) f.reset();
                  else toast("error", explain(r).text);
                }}
              >
                <div class="field">
                  <label for={pasteId}>{t("pasteCallback")}</label>
                  <div class="row">
                    <input id={pasteId} name="url" type="url" required class="mono" autocomplete="off" />
                    <button type="submit">{t("send")}</button>
                  </div>
                </div>
              </form>
            )}
          </>
        )}
      </fieldset>
    </li>
  );
}

/** A form whose answer is shown under it: the saved file, or why not. */
function ResultLine(props: { ok: string | null; err: string | null; testid: string }) {
  if (props.ok)
    return (
      <p class="good" role="status" data-testid={props.testid}>
        {props.ok}
      </p>
    );
  if (props.err)
    return (
      <p class="notice error" role="alert" data-testid={props.testid}>
        {props.err}
      </p>
    );
  return null;
}

function IFlowCookie() {
  useLang();
  const id = useId("cookie");
  const [ok, setOk] = useState<string | null>(null);
  const [err, setErr] = useState<string | null>(null);
  return (
    <li class="entry" data-testid="login-iflow-cookie">
      <fieldset>
        <legend>{t("iflowCookieTitle")}</legend>
        <form
          onSubmit={async (e) => {
            e.preventDefault();
            const f = e.currentTarget as HTMLFormElement;
            const cookie = (f.elements.namedItem("cookie") as HTMLInputElement).value.trim();
            setOk(null);
            setErr(null);
            try {
              const r = await api().POST("/iflow-auth-url", { body: { cookie } });
              if (r.data) {
                setOk(t("savedAs", { file: r.data.saved_path ?? "" }));
                f.reset();
              } else setErr(explain(r).text);
            } catch (x) {
              setErr(networkError(x).text);
            }
          }}
        >
          <div class="field">
            <label for={id}>{t("iflowCookie")}</label>
            <input id={id} name="cookie" type="password" required class="mono" autocomplete="off" aria-describedby={`${id}-hint`} data-testid="iflow-cookie" />
            <small id={`${id}-hint`} class="hint">
              {t("iflowCookieHint")}
            </small>
          </div>
          <button type="submit" class="primary">
            {t("login")}
          </button>
        </form>
        <ResultLine ok={ok} err={err} testid="iflow-cookie-result" />
      </fieldset>
    </li>
  );
}

function VertexImport() {
  useLang();
  const fileId = useId("sa");
  const locId = useId("loc");
  const [ok, setOk] = useState<string | null>(null);
  const [err, setErr] = useState<string | null>(null);
  return (
    <li class="entry" data-testid="login-vertex">
      <fieldset>
        <legend>{t("vertexImportTitle")}</legend>
        <p class="hint">{t("vertexImportHint")}</p>
        <form
          onSubmit={async (e) => {
            e.preventDefault();
            const f = e.currentTarget as HTMLFormElement;
            const file = (f.elements.namedItem("file") as HTMLInputElement).files?.[0];
            const location = (f.elements.namedItem("location") as HTMLInputElement).value.trim();
            if (!file) return;
            setOk(null);
            setErr(null);
            const form = new FormData();
            form.append("file", file, file.name);
            if (location) form.append("location", location);
            try {
              const r = await api().POST("/vertex/import", {
                body: form as unknown as { file: string },
                bodySerializer: (b: unknown) => b as FormData,
              });
              if (r.data) {
                setOk(t("vertexImported", { file: r.data["auth-file"] ?? "", project: r.data.project_id ?? "", location: r.data.location ?? "" }));
                f.reset();
              } else setErr(`${file.name}: ${explain(r).text}`);
            } catch (x) {
              setErr(networkError(x).text);
            }
          }}
        >
          <div class="steer wide">
            <div class="field">
              <label for={fileId}>{t("serviceAccountKey")}</label>
              <input id={fileId} name="file" type="file" accept="application/json,.json" required data-testid="vertex-file" />
            </div>
            <div class="field">
              <label for={locId}>{t("vertexLocation")}</label>
              <input id={locId} name="location" placeholder="us-central1" autocomplete="off" class="mono" />
            </div>
          </div>
          <button type="submit" class="primary" data-testid="vertex-import">
            {t("importKey")}
          </button>
        </form>
        <ResultLine ok={ok} err={err} testid="vertex-result" />
      </fieldset>
    </li>
  );
}

function GeminiWeb() {
  useLang();
  const a = useId("psid");
  const b = useId("psidts");
  const [ok, setOk] = useState<string | null>(null);
  const [err, setErr] = useState<string | null>(null);
  return (
    <li class="entry" data-testid="login-gemini-web">
      <fieldset>
        <legend>{t("geminiWebTitle")}</legend>
        <p class="hint">{t("geminiWebHint")}</p>
        <form
          onSubmit={async (e) => {
            e.preventDefault();
            const f = e.currentTarget as HTMLFormElement;
            const secure_1psid = (f.elements.namedItem("psid") as HTMLInputElement).value.trim();
            const secure_1psidts = (f.elements.namedItem("psidts") as HTMLInputElement).value.trim();
            setOk(null);
            setErr(null);
            try {
              const r = await api().POST("/gemini-web-token", { body: { secure_1psid, secure_1psidts } });
              if (r.data) {
                setOk(t("savedAs", { file: r.data.file }));
                f.reset();
              } else setErr(explain(r).text);
            } catch (x) {
              setErr(networkError(x).text);
            }
          }}
        >
          <div class="steer wide">
            <div class="field">
              <label for={a}>__Secure-1PSID</label>
              <input id={a} name="psid" type="password" required class="mono" autocomplete="off" />
            </div>
            <div class="field">
              <label for={b}>__Secure-1PSIDTS</label>
              <input id={b} name="psidts" type="password" required class="mono" autocomplete="off" />
            </div>
          </div>
          <button type="submit" class="primary">
            {t("save")}
          </button>
        </form>
        <ResultLine ok={ok} err={err} testid="gemini-web-result" />
      </fieldset>
    </li>
  );
}

export function OAuth() {
  useLang();
  return (
    <Page title={t("oauth")} intro={t("oauthIntro")}>
      <ul class="entries">
        {providers.map((p) => (
          <ProviderLogin key={p.id} {...p} />
        ))}
      </ul>
      <h2>{t("otherLogins")}</h2>
      <ul class="entries">
        <IFlowCookie />
        <VertexImport />
        <GeminiWeb />
      </ul>
    </Page>
  );
}
