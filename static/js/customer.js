// The customer page: one-key shortcuts for the actions (each link or button carries its
// key in data-shortcut), Esc to close the open form and focus on the form that opens.
// Keys are ignored while typing.
(function () {
  "use strict";

  var area = document.getElementById("action-area");

  function typing(target) {
    return target.closest && target.closest("input, select, textarea, [contenteditable]");
  }

  function closeAction() {
    if (!area || !area.firstElementChild) return false;
    area.innerHTML = "";
    var bar = document.querySelector(".action-bar a");
    if (bar) bar.focus();
    return true;
  }

  // The first field with an error, else the first field; a panel without fields (the
  // send preview) focuses its heading, so Enter never sends by accident.
  function focusForm() {
    if (!area) return;
    var panel = area.querySelector(".action-panel");
    if (!panel) return;
    var field =
      panel.querySelector('[aria-invalid="true"]') ||
      panel.querySelector("form input:not([type=hidden]), form select, form textarea");
    if (!field || field.closest("[hidden]")) {
      field = panel.querySelector("h3");
      if (field) field.setAttribute("tabindex", "-1");
    }
    panel.scrollIntoView({ block: "nearest" });
    if (field) field.focus();
  }

  document.addEventListener("keydown", function (event) {
    if (event.ctrlKey || event.metaKey || event.altKey || event.defaultPrevented) return;
    if (event.key === "Escape") {
      // In a field, Esc only leaves it (what was typed stays); a second Esc closes the form.
      if (typing(event.target)) event.target.blur();
      else if (closeAction()) event.preventDefault();
      return;
    }
    if (typing(event.target)) return;
    var target = document.querySelector('[data-shortcut="' + event.key + '"]');
    if (!target) return;
    event.preventDefault();
    target.click();
  });

  document.addEventListener("click", function (event) {
    var close = event.target.closest("[data-action-close]");
    if (close && area && area.contains(close) && closeAction()) event.preventDefault();
  });

  document.body.addEventListener("htmx:afterSwap", function (event) {
    // call_outcome.js, loaded first, has already hidden the other outcomes' fields.
    if (event.detail.target === area) focusForm();
  });

  if (area && area.firstElementChild) focusForm();
})();
