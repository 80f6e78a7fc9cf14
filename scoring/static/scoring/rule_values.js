// The rule editor's "In your data" buttons: a click adds the value to the
// row's value box (a list for "is one of" and the phrase operators, the value
// itself for "equals"), then tells htmx the box changed, so the row's
// sentence and match count follow.
document.addEventListener("click", (event) => {
  const pick = event.target.closest("button.rule-pick");
  if (!pick) return;
  const row = pick.closest("tr");
  const box = row && row.querySelector('input[name$="-value"]');
  if (!box) return;
  const operator = row.querySelector('[name$="-operator"]');
  const value = pick.dataset.value;
  if (operator && operator.value === "equals") {
    box.value = value;
  } else {
    const items = box.value.split(",").map((item) => item.trim()).filter(Boolean);
    if (!items.some((item) => item.toLowerCase() === value.toLowerCase())) items.push(value);
    box.value = items.join(", ");
  }
  box.dispatchEvent(new Event("change", { bubbles: true }));
  box.focus();
});
