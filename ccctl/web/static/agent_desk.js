// Workstation: the agent's own ACD state with its running time (the call timer while on a call) and their
// last calls with duration and wrap-up; polled, and ticked each second in between.
"use strict";
const DESK_WORDS = words();
const STATE_POLL_MS = 2000;
const CALLS_POLL_MS = 10000;
let stateSince = null;

function wrapupWord(code) {
  return DESK_WORDS["wrapup_code_" + code] || code;
}

function tick() {
  if (stateSince === null) return;
  const elapsed = (Date.now() - stateSince) / 1000;
  show("my-state-time", seconds(elapsed));
  const onCall = document.body.dataset.agentState === "in_call";
  document.getElementById("call-timer-box").hidden = !onCall;
  if (onCall) show("call-timer", seconds(elapsed));
}

async function pollState() {
  const response = await fetch("/api/v1/agent/state", { credentials: "same-origin" });
  if (!response.ok) return;
  const s = await response.json();
  document.body.dataset.agentState = s.state;
  show("my-status", DESK_WORDS[s.status] || s.status);
  show("my-state", DESK_WORDS["agent_state_" + s.state] || s.state);
  show("my-queue", s.queue);
  stateSince = Date.now() - s.seconds_in_state * 1000;
  tick();
}

async function pollCalls() {
  const response = await fetch("/api/v1/agent/last-calls", { credentials: "same-origin" });
  if (!response.ok) return;
  const body = document.querySelector("#last-calls tbody");
  body.replaceChildren();
  const calls = (await response.json()).calls;
  document.getElementById("no-last-calls").hidden = calls.length > 0;
  for (const c of calls) {
    const row = document.createElement("tr");
    cell(row, c.at);
    cell(row, c.queue);
    cell(row, c.patient);
    cell(row, c.seconds === null ? DESK_WORDS.not_ended : seconds(c.seconds));
    cell(row, c.wrapup ? wrapupWord(c.wrapup) : "-");
    body.appendChild(row);
  }
}

pollState();
pollCalls();
setInterval(pollState, STATE_POLL_MS);
setInterval(pollCalls, CALLS_POLL_MS);
setInterval(tick, 1000);
// a saved wrap-up shows in the list at once
document.getElementById("wrapup-save").addEventListener("click", () => setTimeout(pollCalls, 500));
