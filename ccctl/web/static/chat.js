// The hospital's chat widget. Embed with one tag on any page:
//   <script src="https://contact.hospital.example/static/chat.js" data-lang="zh"></script>
// Plain JavaScript, no build step. It talks JSON to /chat/api/* on the server it came from, carrying
// the chat's random token in a header (never a cookie); texts come from the server in the patient's language.
(function () {
  "use strict";
  const script = document.currentScript;
  const base = new URL(script.src, document.baseURI).origin;
  const language = script.dataset.lang || "en";
  let token = null;
  let words = {};
  let last = 0;
  let state = "assistant";
  let open = true;
  let typingSentAt = 0;

  function el(tag, attrs, text) {
    const node = document.createElement(tag);
    for (const [key, value] of Object.entries(attrs || {})) node.setAttribute(key, value);
    if (text !== undefined) node.textContent = text;
    return node;
  }

  async function call(path, body, method) {
    const options = { method: method || "POST", headers: {} };
    if (token) options.headers["X-Chat-Token"] = token;
    if (body instanceof FormData) options.body = body;
    else if (body !== undefined) {
      options.headers["Content-Type"] = "application/json";
      options.body = JSON.stringify(body);
    }
    const response = await fetch(base + "/chat/api/" + path, options);
    let data = {};
    try { data = await response.json(); } catch (e) { data = {}; }
    data.ok = response.ok;
    return data;
  }

  const style = el("link", { rel: "stylesheet", href: base + "/static/chat.css" });
  document.head.appendChild(style);
  const box = el("section", { id: "ccchat", "aria-live": "polite", lang: language });
  const header = el("header", { id: "ccchat-title" });
  const log = el("ol", { id: "ccchat-log" });
  const typing = el("p", { id: "ccchat-typing", hidden: "" });
  const form = el("form", { id: "ccchat-form" });
  const input = el("input", { id: "ccchat-input", autocomplete: "off" });
  const send = el("button", { id: "ccchat-send", type: "submit" });
  const person = el("button", { id: "ccchat-person", type: "button" });
  const fileInput = el("input", { id: "ccchat-file", type: "file", accept: ".pdf,.jpg,.jpeg,.png" });
  const status = el("p", { id: "ccchat-status", role: "status" });
  form.append(input, send);
  const tools = el("div", { id: "ccchat-tools" });
  tools.append(person, fileInput);

  const signIn = el("details", { id: "ccchat-sign-in" });
  const summary = el("summary");
  const member = el("input", { id: "ccchat-member", inputmode: "numeric", autocomplete: "off" });
  const pin = el("input", { id: "ccchat-pin", type: "password", inputmode: "numeric", autocomplete: "off" });
  const pinButton = el("button", { id: "ccchat-pin-sign-in", type: "button" });
  const codeSend = el("button", { id: "ccchat-send-code", type: "button" });
  const code = el("input", { id: "ccchat-code", inputmode: "numeric", autocomplete: "one-time-code" });
  const codeButton = el("button", { id: "ccchat-code-sign-in", type: "button" });
  signIn.append(summary, member, pin, pinButton, codeSend, code, codeButton);

  const leave = el("form", { id: "ccchat-leave", hidden: "" });
  const leaveText = el("p");
  const leaveContact = el("input", { id: "ccchat-leave-contact" });
  const leaveMessage = el("textarea", { id: "ccchat-leave-message", rows: "3" });
  const leaveSend = el("button", { id: "ccchat-leave-send", type: "submit" });
  leave.append(leaveText, leaveContact, leaveMessage, leaveSend);

  box.append(header, log, typing, form, tools, signIn, leave, status);

  function label() {
    header.textContent = words.title;
    input.placeholder = words.placeholder;
    send.textContent = words.send;
    person.textContent = words.person;
    fileInput.title = words.file;
    summary.textContent = words.sign_in;
    member.placeholder = words.member;
    pin.placeholder = words.pin;
    pinButton.textContent = words.pin_sign_in;
    codeSend.textContent = words.send_code;
    code.placeholder = words.code;
    codeButton.textContent = words.code_sign_in;
    leaveText.textContent = words.leave;
    leaveContact.placeholder = words.leave_contact;
    leaveSend.textContent = words.leave_send;
    typing.textContent = words.typing;
  }

  function show(message) {
    const item = el("li", { class: "ccchat-" + message.who, "data-id": String(message.id) });
    item.appendChild(el("p", {}, message.text));
    if (message.article) {
      item.dataset.article = message.article;
      item.appendChild(el("p", { class: "ccchat-source" }, words.source + ": " + message.source));
    }
    if (message.article && message.who === "assistant") {
      const ask = el("p", { class: "ccchat-helped" }, words.helped + " ");
      const yes = el("button", { type: "button", class: "ccchat-yes" }, words.yes);
      const no = el("button", { type: "button", class: "ccchat-no" }, words.no);
      yes.addEventListener("click", () => { ask.remove(); call("feedback", { helped: true }).then(poll); });
      no.addEventListener("click", () => { ask.remove(); call("feedback", { helped: false }).then(poll); });
      ask.append(yes, no);
      item.appendChild(ask);
    }
    log.appendChild(item);
    log.scrollTop = log.scrollHeight;
  }

  async function poll() {
    if (!token) return;
    const data = await call("messages?after=" + last, undefined, "GET");
    if (!data.ok) return;
    for (const message of data.messages) {
      if (message.id > last) {
        last = message.id;
        show(message);
      }
    }
    state = data.state;
    box.dataset.state = state;
    box.dataset.signedIn = data.signed_in ? "yes" : "no";
    typing.hidden = !data.agent_typing;
    if (state === "closed") form.hidden = true;
  }

  function askForLeave() {
    leave.hidden = false;
    form.hidden = true;
  }

  form.addEventListener("submit", async (event) => {
    event.preventDefault();
    const text = input.value.trim();
    if (!text) return;
    input.value = "";
    const data = await call("messages", { text: text });
    if (!data.ok && data.error === "too_many") status.textContent = words.too_many;
    await poll();
  });
  input.addEventListener("input", () => {
    const now = Date.now();
    if (state === "with_agent" && now - typingSentAt > 2000) {
      typingSentAt = now;
      call("typing", {});
    }
  });
  person.addEventListener("click", async () => {
    const data = await call("person", {});
    if (data.leave) askForLeave();
    await poll();
  });
  leave.addEventListener("submit", async (event) => {
    event.preventDefault();
    const data = await call("leave", { contact: leaveContact.value, text: leaveMessage.value });
    if (data.ok) {
      leave.hidden = true;
      box.dataset.reference = data.reference;
    }
    await poll();
  });
  fileInput.addEventListener("change", async () => {
    if (!fileInput.files.length) return;
    const body = new FormData();
    body.append("file", fileInput.files[0]);
    const data = await call("file", body);
    status.textContent = data.message || "";
    fileInput.value = "";
    await poll();
  });
  pinButton.addEventListener("click", async () => {
    const data = await call("sign-in/pin", { member: member.value, pin: pin.value });
    pin.value = "";
    status.textContent = data.message || "";
    await poll();
  });
  codeSend.addEventListener("click", async () => {
    const data = await call("sign-in/code/send", { member: member.value });
    status.textContent = data.message || "";
  });
  codeButton.addEventListener("click", async () => {
    const data = await call("sign-in/code", { code: code.value });
    code.value = "";
    status.textContent = data.message || "";
    await poll();
  });

  async function start() {
    const data = await call("start", { lang: language });
    if (!data.ok) {
      status.textContent = "Chat is not available now.";
      return;
    }
    token = data.token;
    words = data.words;
    open = data.open;
    label();
    box.dataset.open = open ? "yes" : "no";
    await poll();
    box.dataset.ready = "yes";
    setInterval(poll, 1000);
  }

  function mount() {
    document.body.appendChild(box);
    start();
  }
  if (document.body) mount();
  else document.addEventListener("DOMContentLoaded", mount);
})();
