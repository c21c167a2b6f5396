// The console's only script of its own (the Content-Security-Policy allows no inline script).

// The checkboxes of a form field, wherever they sit: inside the form or tied to it by form="…".
function fieldBoxes(form, name) {
  const scope = form ? Array.from(form.elements) : Array.from(document.querySelectorAll("input"));
  return scope.filter((c) => c instanceof HTMLInputElement && c.type === "checkbox" && c.name === name);
}

// How many are ticked, shown wherever the page asks (data-selection-count="numbers").
function showCounts() {
  document.querySelectorAll("[data-selection-count]").forEach((el) => {
    const form = el.closest("form");
    el.textContent = String(fieldBoxes(form, el.dataset.selectionCount).filter((c) => c.checked).length);
  });
}

// A "select all" checkbox ticks every checkbox of the form field it names (data-select-all="ids").
document.addEventListener("change", (event) => {
  const box = event.target;
  if (!(box instanceof HTMLInputElement)) return;
  if (box.dataset.selectAll) {
    fieldBoxes(box.form, box.dataset.selectAll).forEach((c) => {
      c.checked = box.checked;
    });
  }
  if (box.type === "checkbox") showCounts();
});

// A select marked data-submit-on-change submits its form when changed (the language switcher).
document.addEventListener("change", (event) => {
  const field = event.target;
  if (field instanceof HTMLSelectElement && "submitOnChange" in field.dataset && field.form) field.form.submit();
});

// A button with data-selection-href opens that address for the ticked rows: ?numbers=A,B (printing PDFs).
document.addEventListener("click", (event) => {
  const button = event.target instanceof Element ? event.target.closest("[data-selection-href]") : null;
  if (!button) return;
  const field = button.dataset.selectionField || "numbers";
  const ticked = fieldBoxes(button.form || button.closest("form"), field).filter((c) => c.checked).map((c) => c.value);
  if (!ticked.length) return;
  window.open(`${button.dataset.selectionHref}?${field}=${encodeURIComponent(ticked.join(","))}`, "_blank");
});

document.addEventListener("htmx:afterSwap", showCounts);
