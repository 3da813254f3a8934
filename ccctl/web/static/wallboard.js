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

// chats and tasks are marked by a sign (the same in every language); a call has none
const CHANNEL_SIGN = { voice: "", chat: "\u{1F4AC}", task: "\u{1F4CB}" };

function byChannel(counts) {
  return Object.entries(counts || {}).filter(([c, n]) => c !== "voice" && n).map(([c, n]) => CHANNEL_SIGN[c] + n).join(" ");
}

function drawQueues(acd) {
  document.getElementById("no-acd").hidden = acd !== null;
  const body = document.querySelector("#queues tbody");
  body.replaceChildren();
  for (const q of (acd && acd.queues) || []) {
    const row = document.createElement("tr");
    cell(row, q.name);
    cell(row, q.waiting.length);
    cell(row, seconds(q.longest_wait_seconds));
    cell(row, Object.entries(q.agents_by_state).map(([s, n]) => stateWord(s) + ": " + n).join(", "));
    cell(row, q.service_level_today === null ? "-" : Math.round(q.service_level_today * 100) + "%");
    const answeredChats = byChannel(q.answered_today_by_channel);
    cell(row, answeredChats ? q.answered_today + " (" + answeredChats + ")" : q.answered_today);
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
    cell(row, WORDS[a.status] || a.status);
    const open = byChannel({ chat: a.chats_open, task: a.tasks_open });
    cell(row, open ? stateWord(a.state) + " " + open : stateWord(a.state));
    cell(row, seconds(a.seconds_in_state));
    const buttons = document.createElement("td");
    if (a.call_uuid) for (const mode of ["listen", "whisper", "barge"]) buttons.appendChild(monitorButton(mode, a.name));
    row.appendChild(buttons);
    body.appendChild(row);
  }
}

// the ACD's words for an agent's state, in the page's language
function stateWord(state) {
  return WORDS["agent_state_" + state] || state;
}

// calls with an agent: queue, patient code (blank when the viewer may not see it), state, talk time
function drawLiveCalls(calls) {
  const body = document.querySelector("#live-calls tbody");
  body.replaceChildren();
  document.getElementById("no-live-calls").hidden = calls.length > 0;
  for (const c of calls) {
    const row = document.createElement("tr");
    cell(row, c.queue);
    cell(row, c.agent);
    cell(row, c.patient);
    cell(row, stateWord(c.state));
    cell(row, seconds(c.talk_seconds));
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
  // every ccctl serve on the database: alive / all (a silent one is also a controller_lost alarm)
  const controllers = s.controllers || [];
  const alive = controllers.filter((c) => c.health === "alive").length;
  show("controllers", controllers.length ? `${alive}/${controllers.length}` : "-");
  show("updated", new Date(snapshot.at).toLocaleTimeString(document.documentElement.lang));
  drawAlarms(snapshot.alarms);
  drawQueues(snapshot.acd);
  drawAgents(snapshot.acd);
  drawLiveCalls(snapshot.live_calls || []);
  refreshChart(snapshot.chart);
}

const stream = new EventSource("/api/v1/stream");
stream.addEventListener("wallboard", (e) => draw(JSON.parse(e.data)));
