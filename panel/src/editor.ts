// CodeMirror 6 with YAML highlighting, loaded only on the config.yaml page.
import { defaultKeymap, history, historyKeymap, indentWithTab } from "@codemirror/commands";
import { yaml } from "@codemirror/lang-yaml";
import { HighlightStyle, bracketMatching, foldGutter, indentOnInput, syntaxHighlighting } from "@codemirror/language";
import { tags } from "@lezer/highlight";
import { lintGutter, setDiagnostics } from "@codemirror/lint";
import { EditorState } from "@codemirror/state";
import {
  EditorView,
  drawSelection,
  highlightActiveLine,
  highlightActiveLineGutter,
  keymap,
  lineNumbers,
} from "@codemirror/view";

export interface YamlEditor {
  getText(): string;
  setText(text: string): void;
  setError(e: { line: number; message: string } | null): void;
  destroy(): void;
}

// Colours from the page's tokens (they reach into the shadow root), so YAML
// keys, strings and comments stay readable in both themes.
const yamlColours = HighlightStyle.define([
  { tag: [tags.propertyName, tags.definition(tags.propertyName), tags.attributeName], color: "var(--syn-key)", fontWeight: "600" },
  { tag: [tags.string, tags.special(tags.string), tags.content], color: "var(--syn-string)" },
  { tag: [tags.number, tags.integer, tags.float], color: "var(--syn-number)" },
  { tag: [tags.bool, tags.null, tags.keyword, tags.atom], color: "var(--syn-keyword)" },
  { tag: [tags.comment, tags.lineComment, tags.blockComment], color: "var(--syn-comment)", fontStyle: "italic" },
  { tag: [tags.punctuation, tags.separator, tags.squareBracket, tags.brace, tags.operator], color: "var(--syn-punct)" },
  { tag: [tags.labelName, tags.typeName, tags.meta], color: "var(--syn-keyword)" },
]);

export function createYamlEditor(parent: HTMLElement, text: string, onChange: () => void): YamlEditor {
  // In a shadow root CodeMirror adds its styles as constructed style sheets
  // (adoptedStyleSheets) instead of <style> elements, which the page's
  // Content-Security-Policy (style-src 'self') would refuse.
  const root = parent.shadowRoot ?? parent.attachShadow({ mode: "open" });
  const view = new EditorView({
    root,
    parent: root,
    state: EditorState.create({
      doc: text,
      extensions: [
        lineNumbers(),
        highlightActiveLineGutter(),
        foldGutter(),
        history(),
        drawSelection(),
        indentOnInput(),
        bracketMatching(),
        highlightActiveLine(),
        syntaxHighlighting(yamlColours),
        yaml(),
        lintGutter(),
        EditorView.lineWrapping, // no sideways scrolling on a phone
        keymap.of([...defaultKeymap, ...historyKeymap, indentWithTab]),
        EditorView.contentAttributes.of({ "aria-label": "config.yaml" }),
        EditorView.theme({
          "&": { height: "70vh", backgroundColor: "var(--card)", color: "var(--fg)", fontSize: "0.9rem" },
          "&.cm-focused": { outline: "2px solid var(--focus)" },
          ".cm-selectionBackground, &.cm-focused .cm-selectionBackground": { backgroundColor: "color-mix(in srgb, var(--accent) 30%, transparent)" },
          ".cm-cursor": { borderLeftColor: "var(--fg)" },
          ".cm-scroller": { fontFamily: "ui-monospace, SFMono-Regular, Menlo, Consolas, monospace" },
          ".cm-gutters": { backgroundColor: "var(--bg)", color: "var(--muted)", borderRight: "1px solid var(--border)" },
          ".cm-activeLine, .cm-activeLineGutter": { backgroundColor: "color-mix(in srgb, var(--accent) 10%, transparent)" },
          ".cm-content": { caretColor: "var(--fg)" },
          ".cm-tooltip": { backgroundColor: "var(--card)", color: "var(--fg)", border: "1px solid var(--border)" },
        }),
        EditorView.updateListener.of((u) => {
          if (u.docChanged) onChange();
        }),
      ],
    }),
  });
  return {
    getText: () => view.state.doc.toString(),
    setText: (t) => view.dispatch({ changes: { from: 0, to: view.state.doc.length, insert: t } }),
    setError: (e) => {
      if (!e) {
        view.dispatch(setDiagnostics(view.state, []));
        return;
      }
      const n = Math.min(Math.max(1, e.line), view.state.doc.lines);
      const line = view.state.doc.line(n);
      view.dispatch(setDiagnostics(view.state, [{ from: line.from, to: line.to, severity: "error", message: e.message }]));
      view.dispatch({ selection: { anchor: line.from }, scrollIntoView: true });
    },
    destroy: () => view.destroy(),
  };
}
