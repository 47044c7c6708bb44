// Keyboard work on the queue: j/k move, Enter or o open, x tick, s send / h hold the
// current row (both go to the confirmation page), / search. Keys are ignored while typing.
(function () {
  "use strict";
  var current = -1;

  function rows() {
    return Array.prototype.slice.call(document.querySelectorAll("#results tr[data-href]"));
  }

  function select(index) {
    var all = rows();
    if (!all.length) return;
    index = Math.max(0, Math.min(index, all.length - 1));
    all.forEach(function (row) { row.classList.remove("is-current"); });
    var row = all[index];
    row.classList.add("is-current");
    row.querySelector("a").focus();
    current = index;
  }

  function currentRow() {
    var all = rows();
    return current >= 0 && current < all.length ? all[current] : null;
  }

  function bulk(action) {
    var row = currentRow();
    var form = document.getElementById("bulk");
    if (!row || !form) return;
    form.querySelectorAll("input[name=customer]").forEach(function (box) { box.checked = false; });
    row.querySelector("input[name=customer]").checked = true;
    form.querySelector("select[name=action]").value = action;
    form.submit();
  }

  document.addEventListener("keydown", function (event) {
    if (event.ctrlKey || event.metaKey || event.altKey) return;
    if (event.target.closest("input, select, textarea, [contenteditable]")) {
      if (event.key === "Escape") event.target.blur();
      return;
    }
    var row = currentRow();
    switch (event.key) {
      case "j": select(current + 1); break;
      case "k": select(current < 0 ? 0 : current - 1); break;
      case "o": if (row) window.location = row.dataset.href; break;
      case "x":
        if (row) { var box = row.querySelector("input[name=customer]"); box.checked = !box.checked; }
        break;
      case "s": bulk("send"); break;
      case "h": bulk("hold"); break;
      case "/":
        var search = document.querySelector("input[type=search]");
        if (search) search.focus();
        break;
      default: return;
    }
    event.preventDefault();
  });

  // A new page of results (htmx swap) starts from its top.
  document.body.addEventListener("htmx:afterSwap", function () { current = -1; });
  // Clicking a row (not its link or box) makes it current.
  document.addEventListener("click", function (event) {
    var row = event.target.closest("#results tr[data-href]");
    if (row) current = rows().indexOf(row);
    if (row) rows().forEach(function (r) { r.classList.toggle("is-current", r === row); });
  });
})();
