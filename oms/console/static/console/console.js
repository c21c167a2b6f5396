// The console's only script of its own (the Content-Security-Policy allows no inline script):
// a "select all" checkbox ticks every checkbox of the form field it names (data-select-all="ids").
document.addEventListener("change", (event) => {
  const box = event.target;
  if (!(box instanceof HTMLInputElement) || !box.dataset.selectAll) return;
  const form = box.form || document;
  form.querySelectorAll(`input[type=checkbox][name="${box.dataset.selectAll}"]`).forEach((c) => {
    c.checked = box.checked;
  });
});

// A select marked data-submit-on-change submits its form when changed (the language switcher).
document.addEventListener("change", (event) => {
  const field = event.target;
  if (field instanceof HTMLSelectElement && "submitOnChange" in field.dataset && field.form) field.form.submit();
});
