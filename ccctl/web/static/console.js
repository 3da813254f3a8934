// Shared by every page: JSON calls that carry the session's CSRF token, small DOM helpers, the language
// selector. No page has inline script (the Content-Security-Policy allows scripts from /static only).
"use strict";
const csrfToken = document.querySelector('meta[name="csrf-token"]').content;

async function apiSend(method, path, body) {
  const response = await fetch(path, {
    method: method,
    headers: { "Content-Type": "application/json", "X-CSRF-Token": csrfToken },
    body: JSON.stringify(body || {}),
    credentials: "same-origin",
  });
  const data = await response.json().catch(() => ({}));
  if (!response.ok) throw new Error(data.error || response.status);
  return data;
}

function show(id, value) {
  const el = document.getElementById(id);
  if (el) el.textContent = value;
}

function cell(row, text) {
  const td = document.createElement("td");
  td.textContent = text;
  row.appendChild(td);
}

function seconds(value) {
  const s = Math.round(value || 0);
  return s >= 60 ? Math.floor(s / 60) + " min " + (s % 60) + " s" : s + " s";
}

function words() {
  const el = document.getElementById("words");
  return el ? JSON.parse(el.textContent) : {};
}

// loaded in <head>: listening on the document, the selector works from the moment it is drawn
document.addEventListener("change", (event) => {
  if (event.target.id === "language") event.target.form.submit();
});
