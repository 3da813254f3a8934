// The workstation's knowledge base: articles suggested for the current call (its IVR path and queue), a search
// box, and one click to send an article's short answer by SMS to the caller or to paste it into the open chat.
"use strict";
(function () {
  const panel = document.getElementById("kb-panel");
  if (!panel) return;
  const kbWords = JSON.parse(document.getElementById("kb-words").textContent);
  const list = document.getElementById("kb-list");
  const language = document.getElementById("kb-language");
  let callUuid = null;
  let shown = "suggestions";

  function item(found) {
    const li = document.createElement("li");
    li.className = "kb-article";
    li.dataset.slug = found.slug;
    const title = document.createElement("b");
    title.textContent = found.title;
    const why = document.createElement("small");
    why.textContent = " (" + (kbWords["why_" + found.why] || found.why) + ") ";
    const short = document.createElement("p");
    short.className = "kb-short";
    short.textContent = found.short;
    const sms = document.createElement("button");
    sms.className = "kb-sms";
    sms.textContent = kbWords.send_sms;
    sms.disabled = !callUuid;
    sms.addEventListener("click", async () => {
      try {
        await apiSend("POST", "/api/v1/kb/sms", { call_uuid: callUuid, slug: found.slug, language: found.language });
        show("kb-result", kbWords.sms_sent + ": " + found.title);
      } catch (e) {
        show("kb-result", e.message);
      }
    });
    const paste = document.createElement("button");
    paste.className = "kb-paste";
    paste.textContent = kbWords.copy_to_chat;
    paste.addEventListener("click", () => {
      // the chat panel's reply box (static/chats.js): the agent reads it over and sends it
      const view = document.getElementById("chat-view");
      const input = document.getElementById("chat-input");
      if (!input || !view || view.hidden) return show("kb-result", kbWords.no_chat);
      input.value = found.short;
      const article = document.getElementById("chat-article");
      if (article) article.value = found.slug;
      input.focus();
    });
    li.append(title, why, sms, " ", paste, short);
    return li;
  }

  function fill(articles) {
    list.replaceChildren(...articles.map(item));
    if (!articles.length) {
      const li = document.createElement("li");
      li.textContent = kbWords.none;
      list.appendChild(li);
    }
  }

  async function load(url) {
    const response = await fetch(url, { credentials: "same-origin" });
    const data = await response.json().catch(() => ({}));
    if (response.ok) fill(data.articles);
    else show("kb-result", data.error || response.status);
  }

  function suggestForCall() {
    shown = "suggestions";
    if (!callUuid) return fill([]);
    const query = "?call_uuid=" + encodeURIComponent(callUuid) + "&lang=" + encodeURIComponent(language.value);
    load("/api/v1/kb/suggestions" + query);
  }

  function search() {
    const text = document.getElementById("kb-query").value.trim();
    if (!text) return suggestForCall();
    shown = "search";
    load("/api/v1/kb/search?lang=" + encodeURIComponent(language.value) + "&q=" + encodeURIComponent(text));
  }

  document.getElementById("kb-search-form").addEventListener("submit", (event) => {
    event.preventDefault();
    search();
  });
  language.addEventListener("change", () => (shown === "search" ? search() : suggestForCall()));

  // a new call: the screen pop (static/workstation.js) writes its uuid into #pop-uuid
  const popUuid = document.getElementById("pop-uuid");
  function followCall() {
    const uuid = popUuid.textContent.trim() || null;
    if (uuid === callUuid) return;
    callUuid = uuid;
    suggestForCall();
  }
  new MutationObserver(followCall).observe(popUuid, { childList: true, characterData: true, subtree: true });
  followCall();
})();
