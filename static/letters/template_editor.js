// Template editor: a field button puts its placeholder at the cursor of the box worked in last
// (the email text until another is), then hands the focus back to that box. Tabbing through a
// box on the way to the field list does not count as working in it.
(function () {
  const form = document.querySelector("[data-template-editor]");
  if (!form) return;
  const boxes = Array.from(form.querySelectorAll("[data-insert-kind]"));
  const targetName = form.querySelector("[data-insert-target]");
  const status = form.querySelector("[data-insert-status]");
  let target = form.querySelector("#id_body_text") || boxes[0];
  const used = new WeakSet();

  function choose(box) {
    target = box;
    used.add(box);
    targetName.textContent = box.dataset.insertName;
  }
  for (const box of boxes) {
    for (const kind of ["input", "click", "select"]) box.addEventListener(kind, () => choose(box));
    box.addEventListener("keyup", (event) => {
      if (event.key !== "Tab" && event.key !== "Shift") choose(box);
    });
  }

  form.addEventListener("click", (event) => {
    const button = event.target.closest(".field-insert");
    if (!button || !target) return;
    const html = target.dataset.insertKind === "html";
    const snippet = html ? button.dataset.insertHtml : button.dataset.insertText;
    // A box never used has no cursor of its own yet: add to its end.
    const start = used.has(target) ? target.selectionStart : target.value.length;
    const end = used.has(target) ? target.selectionEnd : target.value.length;
    target.focus();
    target.setRangeText(snippet, start, end, "end");
    // "…" marks what the admin writes in place: select it so typing replaces it.
    const gap = snippet.indexOf("…");
    if (gap >= 0) target.setSelectionRange(start + gap, start + gap + 1);
    target.dispatchEvent(new Event("input", { bubbles: true }));
    status.textContent = `Inserted ${button.textContent.trim()} into ${target.dataset.insertName}.`;
  });
})();
