// Workstation: the patient a preview campaign reserved for this agent, with Call and Skip
// (ccctl/campaigns/preview_web.py). The record is fetched once per reservation: each fetch is an audited read.
"use strict";
(() => {
  const W = JSON.parse(document.getElementById("preview-words").textContent);
  const POLL_MS = 2000;
  let shown = null; // the target id whose patient is on the card

  function text(id, value) {
    document.getElementById(id).textContent = value;
  }

  function fillPatient(p) {
    text("preview-code", p.patient_code);
    text("preview-name", p.display_name);
    text("preview-specialty", p.specialty || "-");
    const fields = document.getElementById("preview-fields");
    fields.replaceChildren();
    for (const [name, value] of Object.entries(p.custom_fields || {})) {
      const row = document.createElement("tr");
      const th = document.createElement("th");
      th.textContent = (p.field_labels || {})[name] || name;
      row.appendChild(th);
      const td = document.createElement("td");
      td.textContent = value;
      row.appendChild(td);
      fields.appendChild(row);
    }
    const contacts = document.getElementById("preview-contacts");
    contacts.replaceChildren();
    const rows = p.campaign_contacts || [];
    for (const c of rows.length ? rows : [null]) {
      const li = document.createElement("li");
      li.textContent = c ? [c.at, c.campaign, c.channel, c.outcome, c.reason].join(" · ") : W.none;
      contacts.appendChild(li);
    }
  }

  function setButtons(enabled) {
    for (const id of ["preview-call", "preview-skip", "preview-skip-reason"]) {
      document.getElementById(id).disabled = !enabled;
    }
  }

  async function refresh() {
    const response = await fetch("/api/v1/agent/preview", { credentials: "same-origin" });
    if (!response.ok) return;
    const p = (await response.json()).preview;
    const card = document.getElementById("campaign-preview");
    if (!p) {
      card.hidden = true;
      shown = null;
      return;
    }
    text("preview-campaign", p.campaign);
    text("preview-attempt", W.preview_attempt.replace("{n}", p.attempt).replace("{of}", p.attempts));
    text("preview-why", p.why || W["kind_" + p.kind] || p.kind);
    text("preview-left", p.state === "reserved" ? W.preview_seconds_left.replace("{s}", p.seconds_left) : W.preview_calling);
    if (shown !== p.target_id) {
      const record = await fetch("/api/v1/agent/preview/" + p.target_id + "/patient", { credentials: "same-origin" });
      if (!record.ok) return;
      fillPatient(await record.json());
      shown = p.target_id;
      text("preview-result", "");
    }
    card.dataset.target = p.target_id;
    card.dataset.state = p.state;
    setButtons(p.state === "reserved");
    card.hidden = false;
  }

  async function act(action, body) {
    const target = document.getElementById("campaign-preview").dataset.target;
    setButtons(false);
    try {
      await apiSend("POST", "/api/v1/agent/preview/" + target + "/" + action, body);
      text("preview-result", action === "call" ? W.preview_calling : W.preview_skipped);
    } catch (e) {
      text("preview-result", e.message);
    }
    await refresh();
  }

  document.getElementById("preview-call").addEventListener("click", () => act("call", {}));
  document.getElementById("preview-skip").addEventListener("click", () =>
    act("skip", { reason: document.getElementById("preview-skip-reason").value }),
  );
  refresh();
  setInterval(() => refresh().catch(() => {}), POLL_MS);
})();
