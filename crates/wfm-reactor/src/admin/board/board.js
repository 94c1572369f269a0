// The intraday board: one table per management unit, filled from /v1/adherence and kept
// live from /v1/events (EventSource resumes with Last-Event-ID by itself after a sleep or
// a daemon restart; an `event: reset` means history was pruned, so the table is re-read).
"use strict";
const rows = new Map(); // userId -> row data
const STATES = ["InAdherence", "OutOfAdherence", "Unscheduled", "Unknown", "Ignored", "Explained"];

function since(iso) {
  if (!iso) return "";
  const s = Math.max(0, Math.floor((Date.now() - Date.parse(iso)) / 1000));
  const h = Math.floor(s / 3600), m = Math.floor((s % 3600) / 60), r = s % 60;
  return (h ? h + "h " : "") + (h || m ? m + "m " : "") + r + "s";
}

function clock(iso) {
  return iso ? new Date(iso).toLocaleTimeString([], { hour: "2-digit", minute: "2-digit" }) : "";
}

function cell(tr, cls, text) {
  const td = document.createElement("td");
  td.className = cls;
  td.textContent = text ?? "";
  tr.appendChild(td);
  return td;
}

function render() {
  const units = new Map();
  for (const r of rows.values()) {
    if (!units.has(r.managementUnitId)) units.set(r.managementUnitId, []);
    units.get(r.managementUnitId).push(r);
  }
  const main = document.getElementById("units");
  main.replaceChildren();
  if (units.size === 0) {
    main.innerHTML = '<p class="empty">No agent has an adherence state yet.</p>';
    return;
  }
  for (const [mu, agents] of [...units].sort()) {
    const sec = document.createElement("section");
    sec.className = "unit";
    sec.dataset.unit = mu;
    const h = document.createElement("h2");
    h.textContent = "Management unit " + mu;
    sec.appendChild(h);
    const counts = document.createElement("div");
    counts.className = "counts";
    for (const st of STATES) {
      const n = agents.filter(a => a.adherenceState === st).length;
      if (!n && (st === "Ignored" || st === "Explained")) continue;
      const b = document.createElement("span");
      b.className = "count " + st;
      b.dataset.state = st;
      b.textContent = st + ": " + n;
      counts.appendChild(b);
    }
    sec.appendChild(counts);
    const table = document.createElement("table");
    table.innerHTML = "<thead><tr><th>Agent</th><th>Scheduled now</th><th>Next</th>" +
      "<th>Presence</th><th>Routing</th><th>Actual</th><th>Adherence</th><th>For</th></tr></thead>";
    const body = document.createElement("tbody");
    agents.sort((a, b) => (a.adherenceState === "OutOfAdherence" ? 0 : 1) -
      (b.adherenceState === "OutOfAdherence" ? 0 : 1) || a.userId.localeCompare(b.userId));
    for (const a of agents) {
      const tr = document.createElement("tr");
      tr.className = a.adherenceState + (a.flash ? " flash" : "");
      tr.dataset.user = a.userId;
      cell(tr, "agent", a.name || a.userId);
      cell(tr, "scheduled", a.scheduledActivityCategory);
      cell(tr, "next", a.nextActivityCategory ? a.nextActivityCategory + " " + clock(a.nextActivityStart) : "");
      cell(tr, "presence", a.systemPresence);
      cell(tr, "routing", a.routingStatus);
      cell(tr, "actual", a.actualActivityCategory);
      cell(tr, "state", a.adherenceState);
      cell(tr, "since", since(a.since)).dataset.since = a.since;
      body.appendChild(tr);
      a.flash = false;
    }
    table.appendChild(body);
    sec.appendChild(table);
    main.appendChild(sec);
  }
}

async function load() {
  const r = await fetch("/v1/adherence", { credentials: "same-origin" });
  if (!r.ok) return;
  rows.clear();
  for (const a of await r.json()) rows.set(a.userId, a);
  render();
}

function apply(ev) {
  const d = ev.data || {};
  const r = rows.get(d.userId);
  if (ev.type === "wfm.adherence.changed") {
    rows.set(d.userId, Object.assign(r || {}, {
      userId: d.userId, managementUnitId: d.managementUnitId,
      adherenceState: d.adherenceState, since: d.adherenceChangeTime,
      scheduledActivityCategory: d.scheduledActivityCategory,
      actualActivityCategory: d.actualActivityCategory,
      systemPresence: d.systemPresence, routingStatus: d.routingStatus, flash: true,
    }));
  } else if (ev.type === "presence.changed" && r) {
    r.systemPresence = d.systemPresence;
  } else if (ev.type === "routing.status.changed" && r) {
    r.routingStatus = d.status;
  } else {
    return false;
  }
  return true;
}

function connect() {
  const feed = document.getElementById("feed");
  const es = new EventSource("/v1/events");
  es.onopen = () => { feed.textContent = "live"; feed.className = "feed live"; };
  es.onerror = () => { feed.textContent = "reconnecting…"; feed.className = "feed"; };
  es.addEventListener("cloudevent", m => { if (apply(JSON.parse(m.data))) render(); });
  es.addEventListener("reset", () => load());
}

setInterval(() => {
  for (const td of document.querySelectorAll("td.since")) td.textContent = since(td.dataset.since);
}, 1000);
// The next activity moves with time: re-read the table once a minute.
setInterval(load, 60000);
load().then(connect);
