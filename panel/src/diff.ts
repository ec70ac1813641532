// A unified line diff of two texts, for comparing any two config revisions
// in the browser (the server gives each revision's diff against the one
// before it only).

type Op = { kind: " " | "-" | "+"; text: string };

/** Above this many cells the middle part is shown as removed then added. */
const MAX_CELLS = 4_000_000;

function lineOps(a: string[], b: string[]): Op[] {
  // Common head and tail need no table.
  let start = 0;
  while (start < a.length && start < b.length && a[start] === b[start]) start++;
  let endA = a.length;
  let endB = b.length;
  while (endA > start && endB > start && a[endA - 1] === b[endB - 1]) {
    endA--;
    endB--;
  }
  const head: Op[] = a.slice(0, start).map((text) => ({ kind: " ", text }));
  const tail: Op[] = a.slice(endA).map((text) => ({ kind: " ", text }));
  const x = a.slice(start, endA);
  const y = b.slice(start, endB);
  const n = x.length;
  const m = y.length;
  const mid: Op[] = [];
  if ((n + 1) * (m + 1) > MAX_CELLS) {
    x.forEach((text) => mid.push({ kind: "-", text }));
    y.forEach((text) => mid.push({ kind: "+", text }));
    return [...head, ...mid, ...tail];
  }
  // Longest common subsequence lengths of the suffixes.
  const w = m + 1;
  const lcs = new Uint32Array((n + 1) * w);
  for (let i = n - 1; i >= 0; i--) {
    for (let j = m - 1; j >= 0; j--) {
      lcs[i * w + j] = x[i] === y[j] ? lcs[(i + 1) * w + j + 1]! + 1 : Math.max(lcs[(i + 1) * w + j]!, lcs[i * w + j + 1]!);
    }
  }
  let i = 0;
  let j = 0;
  while (i < n || j < m) {
    if (i < n && j < m && x[i] === y[j]) {
      mid.push({ kind: " ", text: x[i]! });
      i++;
      j++;
    } else if (j < m && (i === n || lcs[i * w + j + 1]! >= lcs[(i + 1) * w + j]!)) {
      mid.push({ kind: "+", text: y[j]! });
      j++;
    } else {
      mid.push({ kind: "-", text: x[i]! });
      i++;
    }
  }
  return [...head, ...mid, ...tail];
}

function split(s: string): string[] {
  if (s === "") return [];
  const l = s.split("\n");
  if (l[l.length - 1] === "") l.pop();
  return l;
}

/** The unified diff (3 lines of context) from `a` to `b`; "" when equal. */
export function unifiedDiff(a: string, b: string, nameA = "a", nameB = "b"): string {
  const ops = lineOps(split(a), split(b));
  if (!ops.some((o) => o.kind !== " ")) return "";
  const out = [`--- ${nameA}`, `+++ ${nameB}`];
  const ctx = 3;
  // Positions of changes, grouped into hunks with their context.
  let k = 0;
  let lineA = 1;
  let lineB = 1;
  const pos: { a: number; b: number }[] = [];
  for (const o of ops) {
    pos.push({ a: lineA, b: lineB });
    if (o.kind !== "+") lineA++;
    if (o.kind !== "-") lineB++;
  }
  while (k < ops.length) {
    while (k < ops.length && ops[k]!.kind === " ") k++;
    if (k >= ops.length) break;
    const from = Math.max(0, k - ctx);
    let to = k;
    for (;;) {
      while (to < ops.length && ops[to]!.kind !== " ") to++;
      let next = to;
      while (next < ops.length && ops[next]!.kind === " ") next++;
      if (next < ops.length && next - to <= 2 * ctx) to = next;
      else break;
    }
    const end = Math.min(ops.length, to + ctx);
    const hunk = ops.slice(from, end);
    const countA = hunk.filter((o) => o.kind !== "+").length;
    const countB = hunk.filter((o) => o.kind !== "-").length;
    const startA = countA ? pos[from]!.a : pos[from]!.a - 1;
    const startB = countB ? pos[from]!.b : pos[from]!.b - 1;
    out.push(`@@ -${startA},${countA} +${startB},${countB} @@`);
    for (const o of hunk) out.push(o.kind + o.text);
    k = end;
  }
  return out.join("\n") + "\n";
}
