// The workstation's chats, beside the phone: a tab per chat (waiting ones to accept), the transcript, the patient
// once they sign in, the typing indicator, knowledge-base suggestions to paste, transfer, and wrap-up per chat.
"use strict";
(function () {
  const panel = document.getElementById("chats");
  if (!panel) return;
  const csrf = document.querySelector('meta[name="csrf-token"]').content;
  let words = {};
  let selected = null;
  let last = 0;
  let shownPatient = "";
  let typingSentAt = 0;
  let listed = "";
  let refreshing = false;

  function el(tag, attrs, text) {
    const node = document.createElement(tag);
    for (const [key, value] of Object.entries(attrs || {})) node.setAttribute(key, value);
    if (text !== undefined) node.textContent = text;
    return node;
  }

  async function api(path, body) {
    const options = body === undefined
      ? { credentials: "same-origin" }
      : { method: "POST", credentials: "same-origin", headers: { "Content-Type": "application/json", "X-CSRF-Token": csrf }, body: JSON.stringify(body) };
    const response = await fetch("/api/v1/chats" + path, options);
    const data = await response.json().catch(() => ({}));
    data.ok = response.ok;
    return data;
  }

  const tabs = el("nav", { id: "chat-tabs" });
  const view = el("div", { id: "chat-view", hidden: "" });
  const patient = el("p", { id: "chat-patient" });
  const log = el("ol", { id: "chat-log" });
  const typing = el("p", { id: "chat-typing", hidden: "" });
  const form = el("form", { id: "chat-form" });
  const input = el("textarea", { id: "chat-input", rows: "3", cols: "50" });
  const article = el("input", { id: "chat-article", type: "hidden" });
  const send = el("button", { id: "chat-send", type: "submit" });
  form.append(input, article, send);
  const suggestions = el("ul", { id: "chat-suggestions" });
  const suggestTitle = el("h3");
  const xferAgent = el("input", { id: "chat-xfer-agent", size: "8" });
  const xferAgentButton = el("button", { id: "chat-xfer-agent-button", type: "button" });
  const xferQueue = el("input", { id: "chat-xfer-queue", size: "8" });
  const xferQueueButton = el("button", { id: "chat-xfer-queue-button", type: "button" });
  const code = el("select", { id: "chat-wrapup-code" });
  const notes = el("input", { id: "chat-wrapup-notes", size: "30" });
  const end = el("button", { id: "chat-end", type: "button" });
  const result = el("span", { id: "chat-result" });
  const tools = el("p");
  tools.append(xferAgent, xferAgentButton, " ", xferQueue, xferQueueButton, " ", code, notes, end);
  view.append(patient, log, typing, form, suggestTitle, suggestions, tools);
  const title = el("h2");
  panel.append(title, tabs, result, view);

  function label() {
    title.textContent = words.chats;
    send.textContent = words.send;
    suggestTitle.textContent = words.suggestions;
    xferAgent.placeholder = words.transfer_agent;
    xferQueue.placeholder = words.transfer_queue;
    xferAgentButton.textContent = words.transfer;
    xferQueueButton.textContent = words.transfer;
    notes.placeholder = words.notes;
    end.textContent = words.wrapup;
    typing.textContent = words.typing;
  }

  function select(id) {
    selected = id;
    last = 0;
    shownPatient = "";
    log.replaceChildren();
    suggestions.replaceChildren();
    result.textContent = "";
    view.hidden = false;
    view.dataset.chat = String(id);
    for (const tab of tabs.querySelectorAll(".chat-tab")) tab.classList.toggle("selected", tab.dataset.chat === String(id));
    refresh();
  }

  async function list() {
    const data = await api("");
    if (!data.ok) return;
    const seen = JSON.stringify(data.chats);
    if (seen === listed) return;  // re-drawn only when something changed: a button under the mouse stays put
    listed = seen;
    tabs.replaceChildren();
    if (!data.chats.length) tabs.appendChild(el("p", { id: "no-chats" }, words.no_chats));
    for (const chat of data.chats) {
      const tab = el("span", { class: "chat-tab", "data-chat": String(chat.id), "data-state": chat.state });
      const open = el("button", { type: "button", class: "chat-open" }, "#" + chat.id + " " + chat.language + " · " + words[chat.state]);
      open.addEventListener("click", () => select(chat.id));
      tab.appendChild(open);
      if (chat.state === "waiting") {
        const accept = el("button", { type: "button", class: "chat-accept" }, words.accept);
        accept.addEventListener("click", async () => {
          const answer = await api("/" + chat.id + "/accept", {});
          listed = "";
          if (answer.ok) { await list(); select(chat.id); } else result.textContent = answer.error;
        });
        tab.appendChild(accept);
      }
      tab.classList.toggle("selected", chat.id === selected);
      tabs.appendChild(tab);
    }
    if (selected !== null && !data.chats.some((c) => c.id === selected)) {
      selected = null;
      view.hidden = true;
    }
  }

  function showPatient(p) {
    if (!p) { patient.textContent = words.anonymous; patient.dataset.patient = ""; return; }
    patient.textContent = words.patient + ": " + p.name + " · " + p.code + (p.member ? " · " + words.member + " " + p.member : "") + " ";
    // the whole record, as after a call's screen pop (the page is audited)
    patient.appendChild(el("a", { id: "chat-record", href: "/patients/" + encodeURIComponent(p.id), target: "_blank" }, words.record));
    patient.dataset.patient = String(p.id);
  }

  async function refresh() {
    if (selected === null || refreshing) return;
    refreshing = true;
    try { await fetchLines(selected); } finally { refreshing = false; }
  }

  async function fetchLines(id) {
    const data = await api("/" + id + "?after=" + last + "&patient=" + shownPatient);
    if (!data.ok || id !== selected) return;
    for (const message of data.messages) {
      last = Math.max(last, message.id);
      const item = el("li", { class: "chat-" + message.who }, message.who + ": " + message.text);
      log.appendChild(item);
    }
    if (data.messages.some((m) => m.who === "patient") || !suggestions.children.length) suggest(id);
    showPatient(data.patient);
    shownPatient = data.patient ? String(data.patient.id) : "";
    typing.hidden = !data.patient_typing;
    view.dataset.state = data.chat.state;
    form.hidden = data.chat.state !== "with_agent";
  }

  async function suggest(id) {
    const data = await api("/" + id + "/suggestions");
    if (!data.ok || id !== selected) return;
    suggestions.replaceChildren();
    for (const found of data.articles) {
      const item = el("li", { class: "chat-suggestion", "data-slug": found.slug }, found.title + " ");
      const paste = el("button", { type: "button", class: "chat-paste" }, words.paste);
      paste.addEventListener("click", () => { input.value = found.short; article.value = found.slug; input.focus(); });
      item.appendChild(paste);
      suggestions.appendChild(item);
    }
  }

  form.addEventListener("submit", async (event) => {
    event.preventDefault();
    const text = input.value.trim();
    if (!text || selected === null) return;
    const data = await api("/" + selected + "/messages", { text: text, article: article.value });
    if (data.ok) { input.value = ""; article.value = ""; } else result.textContent = data.error;
    refresh();
  });
  input.addEventListener("input", () => {
    const now = Date.now();
    if (selected !== null && now - typingSentAt > 2000) { typingSentAt = now; api("/" + selected + "/typing", {}); }
  });
  async function transfer(body) {
    const data = await api("/" + selected + "/transfer", body);
    result.textContent = data.ok ? words.transferred : data.error;
    listed = "";
    list();
  }
  xferAgentButton.addEventListener("click", () => transfer({ agent: xferAgent.value }));
  xferQueueButton.addEventListener("click", () => transfer({ queue: xferQueue.value }));
  end.addEventListener("click", async () => {
    const data = await api("/" + selected + "/wrapup", { code: code.value, notes: notes.value });
    result.textContent = data.ok ? words.closed : data.error;
    listed = "";
    list();
  });

  async function start() {
    const data = await api("/words");
    if (!data.ok) return;
    words = data.words;
    for (const name of data.codes) code.appendChild(el("option", {}, name));
    label();
    panel.hidden = false;
    await list();
    setInterval(() => { list(); refresh(); }, 1000);
  }
  start();
})();
