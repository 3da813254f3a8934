// Wallboard: draws each snapshot the server streams (/api/v1/stream, Server-Sent Events).
"use strict";
const WORDS = words();
let lastChartTotal = null;

function drawAlarms(alarms) {
  const list = document.getElementById("alarm-list");
  list.replaceChildren();
  document.getElementById("alarms").classList.toggle("alarm", alarms.length > 0);
  if (!alarms.length) {
    const li = document.createElement("li");
    li.textContent = WORDS.no_alarms;
    list.appendChild(li);
  }
  for (const a of alarms) {
    const li = document.createElement("li");
    li.className = "alarm-" + a.kind;
    li.textContent = a.text;
    list.appendChild(li);
  }
}

function drawQueues(acd) {
  document.getElementById("no-acd").hidden = acd !== null;
  const body = document.querySelector("#queues tbody");
  body.replaceChildren();
  for (const q of (acd && acd.queues) || []) {
    const row = document.createElement("tr");
    cell(row, q.name);
    cell(row, q.waiting.map((w) => seconds(w.wait_seconds)).join(", ") || "0");
    cell(row, seconds(q.longest_wait_seconds));
    cell(row, Object.entries(q.agents_by_state).map(([s, n]) => s + ": " + n).join(", "));
    cell(row, q.service_level_today === null ? "-" : Math.round(q.service_level_today * 100) + "%");
    cell(row, q.answered_today);
    cell(row, q.abandoned_today);
    body.appendChild(row);
  }
}

function monitorButton(mode, agent) {
  const button = document.createElement("button");
  button.textContent = WORDS[mode];
  button.className = "monitor-" + mode;
  button.addEventListener("click", async () => {
    const extension = document.getElementById("my-extension").value;
    try {
      await apiSend("POST", "/api/v1/monitor", { mode: mode, agent: agent, extension: extension });
      show("monitor-result", WORDS.done);
    } catch (e) {
      show("monitor-result", e.message);
    }
  });
  return button;
}

function drawAgents(acd) {
  const body = document.querySelector("#agents tbody");
  body.replaceChildren();
  for (const a of (acd && acd.agents) || []) {
    const row = document.createElement("tr");
    cell(row, a.name + " (" + a.extension + ")");
    cell(row, a.status);
    cell(row, a.state);
    cell(row, seconds(a.seconds_in_state));
    cell(row, a.call_uuid || "");
    const buttons = document.createElement("td");
    if (a.call_uuid) for (const mode of ["listen", "whisper", "barge"]) buttons.appendChild(monitorButton(mode, a.name));
    row.appendChild(buttons);
    body.appendChild(row);
  }
}

async function refreshChart(chart) {
  const total = chart.today.reduce((a, b) => a + b, 0);
  if (total === lastChartTotal) return;
  lastChartTotal = total;
  const response = await fetch("/api/v1/calls-chart.svg", { credentials: "same-origin" });
  if (response.ok) document.getElementById("chart").innerHTML = await response.text();
}

function draw(snapshot) {
  const s = snapshot.status;
  for (const k of ["active", "completed", "abandoned", "failed"]) show(k, s.calls[k]);
  show("cps", s.cps.toFixed(1));
  show("esl", s.esl.inbound.status);
  show("updated", snapshot.at);
  drawAlarms(snapshot.alarms);
  drawQueues(snapshot.acd);
  drawAgents(snapshot.acd);
  refreshChart(snapshot.chart);
}

const stream = new EventSource("/api/v1/stream");
stream.addEventListener("wallboard", (e) => draw(JSON.parse(e.data)));
