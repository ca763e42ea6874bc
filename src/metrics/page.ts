// The status page: one self-contained HTML document (no external assets) that fetches status.json every
// few seconds and draws VRRP instances with their VIPs, virtual services with their real servers (failing
// ones in red, first), and the recent events. Read-only; text goes in with textContent only.
export function statusPage(title = 'lbd'): string {
  return `<!doctype html>
<html lang="en"><head><meta charset="utf-8">
<meta name="viewport" content="width=device-width, initial-scale=1">
<title>${title.replace(/[<>&"]/g, '')} status</title>
<style>
:root{--bg:#0f1419;--fg:#e6e6e6;--mut:#8b949e;--ok:#2ea043;--bad:#f85149;--warn:#d29922;--card:#161b22;--line:#30363d}
*{box-sizing:border-box}body{margin:0;font:14px/1.4 system-ui,-apple-system,Segoe UI,Roboto,sans-serif;background:var(--bg);color:var(--fg)}
header{display:flex;flex-wrap:wrap;gap:.5em 1.5em;align-items:baseline;padding:.6em 1em;border-bottom:1px solid var(--line)}
header h1{font-size:1.3em;margin:0}#meta{color:var(--mut)}#summary{font-weight:600}
main{display:grid;gap:1em;padding:1em;grid-template-columns:1fr}
@media(min-width:1400px){main{grid-template-columns:2fr 1fr}#services{grid-row:span 2}body{font-size:16px}}
section{background:var(--card);border:1px solid var(--line);border-radius:6px;padding:.6em .8em;overflow-x:auto}
h2{font-size:1.05em;margin:.2em 0 .5em}table{border-collapse:collapse;width:100%}
th,td{text-align:left;padding:.25em .5em;border-bottom:1px solid var(--line);white-space:nowrap}th{color:var(--mut);font-weight:500}
td.num{text-align:right;font-variant-numeric:tabular-nums}
.badge{display:inline-block;padding:0 .45em;border-radius:4px;font-weight:600;font-size:.9em}
.b-MASTER,.b-up,.b-held{background:var(--ok);color:#fff}.b-BACKUP,.b-standby{background:#30363d;color:var(--fg)}
.b-FAULT,.b-down,.b-lost{background:var(--bad);color:#fff}.b-INIT,.b-STOP{background:var(--warn);color:#000}
tr.server.down td{color:var(--bad);font-weight:600}tr.vs td{font-weight:600;border-top:2px solid var(--line)}
tr.vs.degraded td:first-child{color:var(--warn)}tr.vs.lost td:first-child{color:var(--bad)}
.reason{color:var(--mut);white-space:normal;min-width:12em}#events td{white-space:normal}
#error{color:var(--bad);font-weight:600}.stale{opacity:.5}
</style></head>
<body>
<header><h1>lbd</h1><span id="summary"></span><span id="meta"></span><span id="error"></span></header>
<main>
<section id="services"><h2>Virtual services</h2><table><thead><tr><th>Service / real server</th><th>Health</th><th class="num">Weight</th><th class="num">Active</th><th class="num">Inactive</th><th class="num">Conn/s</th><th class="num">In</th><th class="num">Out</th><th>Reason</th></tr></thead><tbody></tbody></table></section>
<section id="vrrp"><h2>VRRP</h2><table><thead><tr><th>Instance</th><th>State</th><th class="num">Priority</th><th>Master</th><th>VIPs</th></tr></thead><tbody></tbody></table></section>
<section id="events"><h2>Recent events</h2><table><thead><tr><th>Time</th><th>Event</th><th>Detail</th></tr></thead><tbody></tbody></table></section>
</main>
<script>
"use strict";
const REFRESH_MS = 2000;
function el(tag, attrs, ...kids) {
  const e = document.createElement(tag);
  for (const [k, v] of Object.entries(attrs || {})) if (v !== undefined && v !== null) e.setAttribute(k, v);
  for (const k of kids) e.append(k instanceof Node ? k : document.createTextNode(String(k)));
  return e;
}
const badge = (text, cls) => el("span", { class: "badge b-" + cls }, text);
function rate(bps) {
  const units = ["B/s", "kB/s", "MB/s", "GB/s"]; let i = 0;
  while (bps >= 1000 && i < units.length - 1) { bps /= 1000; i++; }
  return (i ? bps.toFixed(1) : String(Math.round(bps))) + " " + units[i];
}
function ago(ms) {
  const s = Math.max(0, Math.round((Date.now() - ms) / 1000));
  return s < 90 ? s + " s" : s < 5400 ? Math.round(s / 60) + " min" : Math.round(s / 3600) + " h";
}
function replace(id, rows) { const tb = document.querySelector("#" + id + " tbody"); tb.replaceChildren(...rows); }
function draw(d) {
  let down = 0, servers = 0, lost = 0;
  const svc = [];
  const sorted = d.services.slice().sort((a, b) => bad(b) - bad(a) || a.id.localeCompare(b.id));
  function bad(s) { return (s.quorumUp ? 0 : 2) + (s.servers.some((r) => !r.up) ? 1 : 0); }
  for (const s of sorted) {
    const failing = s.servers.filter((r) => !r.up).length;
    down += failing; servers += s.servers.length; if (!s.quorumUp) lost++;
    const cls = "vs" + (!s.quorumUp ? " lost" : failing ? " degraded" : "");
    svc.push(el("tr", { class: cls, "data-vs": s.id },
      el("td", {}, s.id), el("td", {}, s.quorumUp ? badge(failing ? failing + " down" : "ok", failing ? "down" : "up") : badge("quorum lost", "lost")),
      el("td", { class: "num" }, s.sum + "/" + s.quorum), el("td", { class: "num" }, s.activeConns), el("td", { class: "num" }, ""),
      el("td", { class: "num" }, s.cps), el("td", { class: "num" }, rate(s.inBps)), el("td", { class: "num" }, rate(s.outBps)),
      el("td", { class: "reason" }, s.inKernel < s.keys && d.ipvs.available ? "not in the kernel" : "")));
    const rs = s.servers.slice().sort((a, b) => Number(a.up) - Number(b.up));
    for (const r of rs) {
      svc.push(el("tr", { class: "server " + (r.up ? "up" : "down"), "data-server": r.server },
        el("td", {}, "\\u00a0\\u00a0" + r.server), el("td", {}, badge(r.up ? "up" : "down", r.up ? "up" : "down"), " " + ago(r.since)),
        el("td", { class: "num" }, (r.weight === null ? "-" : r.weight) + (r.weight !== r.configuredWeight ? " (" + r.configuredWeight + ")" : "")),
        el("td", { class: "num" }, r.activeConns), el("td", { class: "num" }, r.inactiveConns), el("td", { class: "num" }, r.cps),
        el("td", { class: "num" }, rate(r.inBps)), el("td", { class: "num" }, rate(r.outBps)),
        el("td", { class: "reason" }, (r.up ? "" : r.reason) + (r.check && !r.up ? " (" + r.check + ")" : ""))));
    }
  }
  replace("services", svc);
  replace("vrrp", d.vrrp.map((i) => el("tr", { class: "instance", "data-instance": i.name },
    el("td", {}, i.name + " (vrid " + i.vrid + ", " + i.interface + ")"), el("td", {}, badge(i.state, i.state), i.faults.length ? " " + i.faults.join(", ") : ""),
    el("td", { class: "num" }, i.priority + (i.priority !== i.basePriority ? " (" + i.basePriority + ")" : "")),
    el("td", {}, i.state === "MASTER" ? "this node" : i.master || "-"),
    el("td", {}, ...i.vips.map((v) => el("span", { class: "vip badge " + (v.held ? "held b-held" : "standby b-standby"), "data-vip": v.address }, v.address + (v.held ? " held here" : "")))))));
  replace("events", d.events.map((e) => el("tr", { class: "event" }, el("td", {}, new Date(e.time).toLocaleTimeString()), el("td", {}, e.source + " " + e.type), el("td", {}, e.text))));
  const masters = d.vrrp.filter((i) => i.state === "MASTER").length;
  document.getElementById("summary").textContent = d.services.length + " services, " + servers + " real servers, " + down + " down" + (lost ? ", " + lost + " without quorum" : "") + (d.vrrp.length ? "; VRRP master of " + masters + "/" + d.vrrp.length : "");
  document.getElementById("meta").textContent = d.host + " \\u00b7 lbd " + d.version + " \\u00b7 up " + ago(Date.now() - d.uptimeSeconds * 1000) + " \\u00b7 " + new Date(d.generatedAt).toLocaleTimeString() + (d.ipvs.error ? " \\u00b7 IPVS: " + d.ipvs.error : "");
  document.title = (down || lost ? "\\u26a0 " + down + " down - " : "") + "lbd " + d.host;
  document.body.dataset.loaded = String(d.generatedAt);
}
async function refresh() {
  try {
    const r = await fetch("status.json", { cache: "no-store" });
    if (!r.ok) throw new Error("HTTP " + r.status);
    draw(await r.json());
    document.getElementById("error").textContent = ""; document.querySelector("main").classList.remove("stale");
  } catch (e) {
    document.getElementById("error").textContent = "lbd unreachable: " + e.message; document.querySelector("main").classList.add("stale");
  }
  setTimeout(refresh, REFRESH_MS);
}
refresh();
</script>
</body></html>
`;
}
