// Read-only views next to the exclusion editor: the model aliases of the
// OAuth channels (oauth-model-alias, edited in config.yaml) and the built-in
// model catalogue of a channel, which is what exclusion patterns match.
import type { Schemas } from "@cli-proxy-api/management-client";
import { useEffect, useState } from "preact/hooks";
import { explain, networkError, type Explained } from "../api";
import { t, useLang } from "../i18n";
import { useLiveTick } from "../live";
import { api } from "../store";
import { Empty, Loadable, useId } from "../ui";

export const OAUTH_CHANNELS = ["gemini-cli", "vertex", "aistudio", "antigravity", "claude", "codex", "qwen", "iflow", "kimi", "xai"];

type AliasMap = Schemas["OauthModelAliasMap"]["oauth-model-alias"];

export function ModelAliases() {
  useLang();
  const tick = useLiveTick();
  const [map, setMap] = useState<AliasMap | null>(null);
  const [err, setErr] = useState<Explained | null>(null);
  const load = async () => {
    try {
      const r = await api().GET("/oauth-model-alias");
      if (r.data) {
        setMap(r.data["oauth-model-alias"]);
        setErr(null);
      } else setErr(explain(r));
    } catch (e) {
      setErr(networkError(e));
    }
  };
  useEffect(() => void load(), [tick]);
  return (
    <section aria-labelledby="aliases-h" data-testid="model-aliases">
      <h2 id="aliases-h">{t("aliasesTitle")}</h2>
      <p class="intro">
        {t("aliasesIntro")} <a href="#/config">config.yaml</a>
      </p>
      <Loadable value={map} err={err} onRetry={() => void load()}>
        {(m) =>
          Object.keys(m).length === 0 ? (
            <Empty text={t("aliasesEmpty")} />
          ) : (
            <div class="scroll">
              <table class="table-cards">
                <thead>
                  <tr>
                    <th scope="col">{t("channel")}</th>
                    <th scope="col">{t("upstreamModel")}</th>
                    <th scope="col">{t("aliasSeen")}</th>
                  </tr>
                </thead>
                <tbody>
                  {Object.entries(m).flatMap(([channel, list]) =>
                    list.map((a) => (
                      <tr key={`${channel}/${a.alias}`}>
                        <td data-label={t("channel")}>{channel}</td>
                        <td data-label={t("upstreamModel")} class="mono">
                          {a.name}
                        </td>
                        <td data-label={t("aliasSeen")} class="mono">
                          {a.alias}
                          {a.fork && <span class="muted"> ({t("aliasFork")})</span>}
                        </td>
                      </tr>
                    )),
                  )}
                </tbody>
              </table>
            </div>
          )
        }
      </Loadable>
    </section>
  );
}

export function BuiltinModels() {
  useLang();
  const id = useId("ch");
  const [channel, setChannel] = useState(OAUTH_CHANNELS[4]!);
  const [models, setModels] = useState<Schemas["ModelDefinition"][] | null>(null);
  const [err, setErr] = useState<Explained | null>(null);
  const load = async (ch: string) => {
    setModels(null);
    setErr(null);
    try {
      const r = await api().GET("/model-definitions/{channel}", { params: { path: { channel: ch } } });
      if (r.data) setModels(r.data.models);
      else setErr(explain(r));
    } catch (e) {
      setErr(networkError(e));
    }
  };
  useEffect(() => void load(channel), [channel]);
  return (
    <section aria-labelledby="builtin-h" data-testid="builtin-models">
      <h2 id="builtin-h">{t("builtinTitle")}</h2>
      <p class="intro">{t("builtinIntro")}</p>
      <div class="filters">
        <div class="field narrow">
          <label for={id}>{t("channel")}</label>
          <select id={id} value={channel} data-testid="builtin-channel" onChange={(e) => setChannel((e.currentTarget as HTMLSelectElement).value)}>
            {OAUTH_CHANNELS.map((c) => (
              <option key={c} value={c}>
                {c}
              </option>
            ))}
          </select>
        </div>
      </div>
      <Loadable value={models} err={err} onRetry={() => void load(channel)}>
        {(list) =>
          list.length === 0 ? (
            <Empty text={t("noModels")} />
          ) : (
            <ul class="chips" data-testid="builtin-list">
              {list.map((m) => (
                <li key={m.id} class="mono" title={m.display_name ?? m.id}>
                  {m.id}
                </li>
              ))}
            </ul>
          )
        }
      </Loadable>
    </section>
  );
}
