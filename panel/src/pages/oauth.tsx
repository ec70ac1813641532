import { useEffect, useRef, useState } from "preact/hooks";
import { explain } from "../api";
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

function start(p: Provider) {
  const q = { params: { query: { is_webui: "true" } } };
  switch (p) {
    case "anthropic":
      return api().GET("/anthropic-auth-url", q);
    case "codex":
      return api().GET("/codex-auth-url", q);
    case "gemini-cli":
      return api().GET("/gemini-cli-auth-url", q);
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
        <div class="row">
          <button
            type="button"
            class="primary"
            onClick={async () => {
              setErr("");
              const r = await start(props.id);
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

export function OAuth() {
  useLang();
  return (
    <Page title={t("oauth")} intro={t("oauthIntro")}>
      <ul class="entries">
        {providers.map((p) => (
          <ProviderLogin key={p.id} {...p} />
        ))}
      </ul>
    </Page>
  );
}
