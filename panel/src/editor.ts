// CodeMirror 6 with YAML highlighting, loaded only on the config.yaml page.
import { defaultKeymap, history, historyKeymap, indentWithTab } from "@codemirror/commands";
import { yaml } from "@codemirror/lang-yaml";
import { bracketMatching, defaultHighlightStyle, foldGutter, indentOnInput, syntaxHighlighting } from "@codemirror/language";
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

export function createYamlEditor(parent: HTMLElement, text: string, onChange: () => void): YamlEditor {
  const view = new EditorView({
    parent,
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
        syntaxHighlighting(defaultHighlightStyle, { fallback: true }),
        yaml(),
        lintGutter(),
        keymap.of([...defaultKeymap, ...historyKeymap, indentWithTab]),
        EditorView.contentAttributes.of({ "aria-label": "config.yaml" }),
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
