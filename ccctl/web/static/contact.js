// The patients' contact form: choosing a language shows the page in it (no inline script: the page's policy).
"use strict";
document.addEventListener("change", (event) => {
  if (event.target.id === "language") event.target.form.submit();
});
