// Call forms (the customer page and the calls page) show only the follow-up fields of the
// chosen outcome. Without JavaScript every field shows, and those of other outcomes are
// ignored. Runs on load and after every htmx swap; a form is bound once.
(function () {
  "use strict";

  function showOutcomeFields(root) {
    root.querySelectorAll("form[data-call-form]").forEach(function (form) {
      var outcome = form.elements.outcome;
      if (!outcome || form.dataset.outcomeBound) return;
      form.dataset.outcomeBound = "1";
      function update() {
        form.querySelectorAll("fieldset[data-outcome]").forEach(function (set) {
          // A fieldset with errors stays visible whatever the outcome says.
          set.hidden = set.dataset.outcome !== outcome.value && !set.querySelector(".errors");
        });
      }
      outcome.addEventListener("change", update);
      update();
    });
  }

  document.body.addEventListener("htmx:afterSwap", function (event) {
    showOutcomeFields(event.detail.target);
  });
  showOutcomeFields(document);
})();
