// Agent workstation: status changes, the screen pop of an offered call, the wrap-up of that call.
"use strict";
const WORDS = words();
let callUuid = null;

function fillList(id, rows, text) {
  const list = document.getElementById(id);
  list.replaceChildren();
  for (const row of rows || []) {
    const li = document.createElement("li");
    li.textContent = text(row);
    list.appendChild(li);
  }
  if (!rows || !rows.length) {
    const li = document.createElement("li");
    li.textContent = WORDS.none;
    list.appendChild(li);
  }
}

function showPatient(p) {
  document.getElementById("pop-patient").hidden = false;
  show("pop-code", p.patient_code);
  show("pop-name", p.display_name);
  show("pop-member", p.member ? WORDS.member + " " + p.member_number : WORDS.non_member);
  show("pop-specialty", p.specialty || "-");
  const fields = document.getElementById("pop-fields");
  fields.replaceChildren();
  for (const [name, value] of Object.entries(p.custom_fields)) {
    const row = document.createElement("tr");
    const th = document.createElement("th");
    th.textContent = p.field_labels[name] || name;
    row.appendChild(th);
    cell(row, value);
    fields.appendChild(row);
  }
  fillList("pop-calls", p.last_calls, (c) => c.started_at + " " + c.hotline + " " + c.disposition);
  fillList("pop-tickets", p.open_tickets, (r) => Object.values(r).join(" · "));
  fillList("pop-messages", p.recent_messages, (r) => Object.values(r).join(" · "));
}

async function pop(offer) {
  if (!offer || offer.type !== "offered") return;
  callUuid = offer.call_uuid;
  document.getElementById("no-call").hidden = true;
  document.getElementById("pop-call").hidden = false;
  show("pop-queue", offer.queue || "");
  show("pop-uuid", offer.call_uuid);
  document.getElementById("wrapup-save").disabled = false;
  for (const button of document.querySelectorAll("button.control, button.xfer")) button.disabled = false;
  show("wrapup-result", "");
  document.getElementById("pop-patient").hidden = true;
  const appointments = document.getElementById("pop-appointments");
  appointments.hidden = offer.patient_id === null || offer.patient_id === undefined;
  if (appointments.hidden) return;
  // the booking panel: the patient's visits and free slots, book / move / cancel
  appointments.href = "/patients/" + encodeURIComponent(offer.patient_id) + "/appointments";
  const response = await fetch("/api/v1/patients/" + offer.patient_id, { credentials: "same-origin" });
  if (response.ok) showPatient(await response.json());
}

document.getElementById("set-status").addEventListener("click", async () => {
  const status = document.getElementById("agent-status").value;
  const reason = document.getElementById("break-reason").value;
  try {
    const r = await apiSend("POST", "/api/v1/agent/status", { status: status, reason: reason });
    show("status-result", r.status);
  } catch (e) {
    show("status-result", e.message);
  }
});

document.getElementById("wrapup-save").addEventListener("click", async () => {
  const body = {
    code: document.getElementById("wrapup-code").value,
    notes: document.getElementById("wrapup-notes").value,
  };
  try {
    await apiSend("POST", "/api/v1/calls/" + encodeURIComponent(callUuid) + "/wrapup", body);
    show("wrapup-result", WORDS.saved);
  } catch (e) {
    show("wrapup-result", e.message);
  }
});

for (const button of document.querySelectorAll("button.control")) {
  button.addEventListener("click", async () => {
    const body = { action: button.dataset.action, target: document.getElementById("transfer-target").value };
    try {
      await apiSend("POST", "/api/v1/calls/" + encodeURIComponent(callUuid) + "/control", body);
      show("control-result", WORDS.done);
    } catch (e) {
      show("control-result", e.message);
    }
  });
}

// transfers of the agent's own queued call: blind or warm to an agent, blind to a queue; finish a warm one
for (const button of document.querySelectorAll("button.xfer")) {
  button.addEventListener("click", async () => {
    const body = { kind: button.dataset.kind };
    if (button.dataset.to === "agent") body.to_agent = document.getElementById("xfer-agent").value;
    if (button.dataset.to === "queue") body.to_queue = document.getElementById("xfer-queue").value;
    try {
      const done = await apiSend("POST", "/api/v1/transfer", body);
      show("xfer-result", WORDS.done + " " + done.target);
    } catch (e) {
      show("xfer-result", e.message);
    }
  });
}

pop(JSON.parse(document.getElementById("current-offer").textContent));
const stream = new EventSource("/api/v1/agent/stream");
stream.addEventListener("pop", (e) => pop(JSON.parse(e.data)));
// lets a test (or a person with the inspector) see that screen pops can arrive
stream.addEventListener("open", () => (document.body.dataset.stream = "open"));
