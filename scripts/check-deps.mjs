// Reads dependency-cruiser's JSON (stdin) and fails on any rule violation, and on a cycle between
// folders (a top-level file of src/ counts as its own folder): the module-level rules forbid a
// module importing itself back; this keeps whole folders pointing one way too.
import { readFileSync } from "node:fs";

const result = JSON.parse(readFileSync(0, "utf8"));
let failed = false;
for (const v of result.summary.violations) {
  if (v.rule.severity !== "error") continue;
  failed = true;
  console.error(`${v.rule.name}: ${v.from} → ${v.to}`);
}

const group = (p) => (p.split("/").length === 2 ? p : p.split("/").slice(0, 2).join("/"));
const edges = new Map();
const why = new Map();
for (const m of result.modules) {
  if (!m.source.startsWith("src/")) continue;
  for (const d of m.dependencies) {
    const [a, b] = [group(m.source), group(d.resolved)];
    if (!d.resolved.startsWith("src/") || a === b) continue;
    if (!edges.has(a)) edges.set(a, new Set());
    edges.get(a).add(b);
    why.set(`${a} ${b}`, `${m.source} → ${d.resolved}`);
  }
}
// Tarjan's strongly connected components: any with two or more folders is a cycle
let next = 0;
const index = new Map();
const low = new Map();
const stack = [];
const onStack = new Set();
const cycles = [];
function visit(v) {
  index.set(v, next);
  low.set(v, next++);
  stack.push(v);
  onStack.add(v);
  for (const w of edges.get(v) ?? []) {
    if (!index.has(w)) {
      visit(w);
      low.set(v, Math.min(low.get(v), low.get(w)));
    } else if (onStack.has(w)) low.set(v, Math.min(low.get(v), index.get(w)));
  }
  if (low.get(v) !== index.get(v)) return;
  const scc = [];
  for (let w; w !== v; ) {
    w = stack.pop();
    onStack.delete(w);
    scc.push(w);
  }
  if (scc.length > 1) cycles.push(scc);
}
for (const v of edges.keys()) if (!index.has(v)) visit(v);
for (const scc of cycles) {
  failed = true;
  console.error(`folder cycle: ${scc.join(", ")}`);
  for (const a of scc)
    for (const b of edges.get(a) ?? []) if (scc.includes(b)) console.error(`  ${why.get(`${a} ${b}`)}`);
}
if (failed) process.exit(1);
console.log(
  `no dependency violations and no folder cycles (${result.summary.totalCruised} modules, ${result.summary.totalDependenciesCruised} dependencies)`,
);
