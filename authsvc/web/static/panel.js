// authsvc Admin Panel: progressive enhancement only (every page works without it): select all
// rows, copy a secret shown once, confirm a destructive form. No inline script; data comes from
// data-* attributes. (Pushes and security keys use prompt.js, loaded beside this file.)
"use strict";

function selectAll(box) {
  const form = box.form || box.closest("form");
  if (!form) return;
  box.addEventListener("change", () => {
    form.querySelectorAll("input[type=checkbox][name='" + box.dataset.selectAll + "']")
      .forEach((row) => { row.checked = box.checked; });
  });
}

function copyButton(button) {
  button.hidden = false;
  button.addEventListener("click", async () => {
    const target = document.getElementById(button.dataset.copy);
    if (!target) return;
    try {
      await navigator.clipboard.writeText(target.textContent.trim());
      button.textContent = "Copied";
    } catch (e) {
      const range = document.createRange();
      range.selectNodeContents(target);
      const selection = window.getSelection();
      selection.removeAllRanges();
      selection.addRange(range);
      button.textContent = "Selected: press Ctrl+C";
    }
  });
}

function confirmForm(form) {
  form.addEventListener("submit", (event) => {
    if (!window.confirm(form.dataset.confirm)) event.preventDefault();
  });
}

document.addEventListener("DOMContentLoaded", () => {
  document.querySelectorAll("[data-select-all]").forEach(selectAll);
  document.querySelectorAll("[data-copy]").forEach(copyButton);
  document.querySelectorAll("form[data-confirm]").forEach(confirmForm);
});
