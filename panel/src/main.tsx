import "./style.css";
import { render } from "preact";
import { useEffect, useState } from "preact/hooks";
import { explain, forgetKey, makeClient, managementState, networkError, savedKey, storeKey, type Explained } from "./api";
import { getLang, setLang, t, useLang, type Lang, type TKey } from "./i18n";
import { loadConfig, noteVersion, state, update, useStore } from "./store";
import { Dialogs, Toasts, useId } from "./ui";
import { Overview } from "./pages/overview";
import { Settings } from "./pages/settings";
import { ClientKeys, ExcludedModels, OpenAICompat, Providers } from "./pages/lists";
import { ConfigYaml } from "./pages/configyaml";
import { Usage } from "./pages/usage";
import { Logs } from "./pages/logs";
import { AuthFiles } from "./pages/authfiles";
import { OAuth } from "./pages/oauth";
import { Audit, Cooldowns, History, RequestLog } from "./pages/features";

const routes: { path: string; label: TKey; view: () => preact.JSX.Element }[] = [
  { path: "overview", label: "overview", view: Overview },
  { path: "settings", label: "settings", view: Settings },
  { path: "keys", label: "clientKeys", view: ClientKeys },
  { path: "providers", label: "providers", view: Providers },
  { path: "openai", label: "openaiCompat", view: OpenAICompat },
  { path: "excluded", label: "excludedModels", view: ExcludedModels },
  { path: "config", label: "configYaml", view: ConfigYaml },
  { path: "usage", label: "usage", view: Usage },
  { path: "logs", label: "logs", view: Logs },
  { path: "auth-files", label: "authFiles", view: AuthFiles },
  { path: "oauth", label: "oauth", view: OAuth },
  { path: "history", label: "history", view: History },
  { path: "audit", label: "audit", view: Audit },
  { path: "cooldowns", label: "cooldowns", view: Cooldowns },
  { path: "request-log", label: "requestLog", view: RequestLog },
];

function useRoute(): string {
  const get = () => location.hash.replace(/^#\/?/, "") || "overview";
  const [r, set] = useState(get);
  useEffect(() => {
    const f = () => set(get());
    addEventListener("hashchange", f);
    return () => removeEventListener("hashchange", f);
  }, []);
  return r;
}

// Theme: follows the system unless chosen; the choice is not a secret.
const THEME_KEY = "cpa-panel-theme";
function applyTheme(v: string) {
  if (v === "light" || v === "dark") document.documentElement.dataset["theme"] = v;
  else delete document.documentElement.dataset["theme"];
}
applyTheme(localStorage.getItem(THEME_KEY) ?? "auto");

function Prefs() {
  useLang();
  const langId = useId("lang");
  const themeId = useId("theme");
  const [theme, setTheme] = useState(localStorage.getItem(THEME_KEY) ?? "auto");
  return (
    <div class="prefs">
      <label for={langId} class="sr-only">
        {t("language")}
      </label>
      <select id={langId} value={getLang()} onChange={(e) => setLang((e.currentTarget as HTMLSelectElement).value as Lang)}>
        <option value="en">English</option>
        <option value="zh-CN">简体中文</option>
      </select>
      <label for={themeId} class="sr-only">
        {t("theme")}
      </label>
      <select
        id={themeId}
        value={theme}
        onChange={(e) => {
          const v = (e.currentTarget as HTMLSelectElement).value;
          setTheme(v);
          localStorage.setItem(THEME_KEY, v);
          applyTheme(v);
        }}
      >
        <option value="auto">{t("themeAuto")}</option>
        <option value="light">{t("themeLight")}</option>
        <option value="dark">{t("themeDark")}</option>
      </select>
    </div>
  );
}

function SignIn(props: { error: Explained | null; busy: boolean; onSubmit: (key: string, remember: boolean) => void }) {
  useLang();
  const [show, setShow] = useState(false);
  const keyId = useId("key");
  const remId = useId("remember");
  const disabled = managementState() === "disabled" || props.error?.status === 404;
  useEffect(() => {
    document.title = `${t("signIn")} · ${t("appTitle")}`;
  });
  return (
    <main id="main" class="signin">
      <div class="card">
        <div class="row spread">
          <h1>{t("appTitle")}</h1>
          <Prefs />
        </div>
        {disabled ? (
          <div class="notice error" role="alert" data-testid="mgmt-disabled">
            <p>{t("errMgmtDisabled")}</p>
            <p>{t("howToEnable")}</p>
          </div>
        ) : (
          <form
            onSubmit={(e) => {
              e.preventDefault();
              const f = e.currentTarget as HTMLFormElement;
              const key = (f.elements.namedItem("key") as HTMLInputElement).value.trim();
              const remember = (f.elements.namedItem("remember") as HTMLInputElement).checked;
              props.onSubmit(key, remember);
            }}
          >
            <p>{t("signInIntro")}</p>
            <div class="field">
              <label for={keyId}>{t("managementKey")}</label>
              <div class="row">
                <input id={keyId} name="key" type={show ? "text" : "password"} autocomplete="current-password" required spellcheck={false} />
                <button type="button" onClick={() => setShow(!show)} aria-pressed={show}>
                  {show ? t("hideKey") : t("showKey")}
                </button>
              </div>
            </div>
            <div class="field toggle">
              <input id={remId} name="remember" type="checkbox" aria-describedby={`${remId}-hint`} />
              <label for={remId}>{t("rememberMe")}</label>
            </div>
            <small id={`${remId}-hint`} class="hint">
              {t("rememberHint")}
            </small>
            {props.error && (
              <div class="notice error" role="alert" data-testid="signin-error">
                <p>{props.error.text}</p>
              </div>
            )}
            <div class="row end">
              <button type="submit" class="primary" disabled={props.busy}>
                {props.busy ? t("signingIn") : t("signIn")}
              </button>
            </div>
          </form>
        )}
      </div>
    </main>
  );
}

function Shell() {
  useLang();
  const s = useStore();
  const route = useRoute();
  const [menu, setMenu] = useState(false);
  const current = routes.find((r) => r.path === route) ?? routes[0]!;
  const View = current.view;
  useEffect(() => {
    setMenu(false);
    document.getElementById("page-title")?.focus({ preventScroll: true });
  }, [route]);
  return (
    <div class={menu ? "shell menu-open" : "shell"}>
      <a
        class="skip"
        href="#main"
        onClick={(e) => {
          e.preventDefault();
          document.getElementById("page-title")?.focus();
        }}
      >
        {t("skip")}
      </a>
      <header class="top">
        <span class="brand">
          <span class="brand-long">{t("appTitle")}</span>
          <span class="brand-short">CLI Proxy API</span>
        </span>
        <span class="ver" data-testid="version">
          {s.version.version}
        </span>
        <button
          type="button"
          class="menu-button"
          aria-expanded={menu}
          aria-controls="side-nav"
          data-testid="menu-button"
          onClick={() => setMenu(!menu)}
        >
          <span aria-hidden="true">{menu ? "✕" : "☰"}</span>
          <span class="menu-label">
            {t("menu")} · {t(current.label)}
          </span>
        </button>
        <div class="top-actions">
          <Prefs />
          <button
            type="button"
            onClick={() => {
              forgetKey();
              update({ client: null, key: "", cfg: null, etag: undefined });
            }}
          >
            {t("signOut")}
          </button>
        </div>
      </header>
      <nav aria-label={t("nav")} class="side" id="side-nav">
        <ul>
          {routes.map((r) => (
            <li key={r.path}>
              <a href={`#/${r.path}`} data-route={r.path} aria-current={r === current ? "page" : undefined} onClick={() => setMenu(false)}>
                {t(r.label)}
              </a>
            </li>
          ))}
        </ul>
      </nav>
      <main id="main">
        <View />
      </main>
    </div>
  );
}

function App() {
  useLang();
  const s = useStore();
  const [error, setError] = useState<Explained | null>(null);
  const [busy, setBusy] = useState(false);

  async function signIn(key: string, remember: boolean, silent = false) {
    setBusy(true);
    setError(null);
    const client = makeClient(key);
    try {
      const r = await client.GET("/config");
      noteVersion(r.response);
      if (r.data) {
        if (!silent) storeKey(key, remember);
        update({ client, key });
        await loadConfig();
      } else {
        if (silent && r.response.status === 401) forgetKey();
        setError(explain(r));
      }
    } catch (err) {
      setError(networkError(err));
    }
    setBusy(false);
  }

  useEffect(() => {
    const saved = savedKey();
    if (saved && managementState() !== "disabled") void signIn(saved.key, saved.remember, true);
  }, []);

  return (
    <>
      {s.client ? <Shell /> : <SignIn error={error} busy={busy} onSubmit={(k, r) => void signIn(k, r)} />}
      <Dialogs />
      <div class={s.client ? "" : "signin-toasts"}>
        <Toasts />
      </div>
    </>
  );
}

void state;
render(<App />, document.getElementById("app")!);
