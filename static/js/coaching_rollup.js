// Executive rollup tree: HTMX loads a node's direct reports the first time it is expanded
// (hx-trigger="click once"); afterwards this script only hides and shows the loaded rows.
(() => {
  const rowsBelow = (id) => document.querySelectorAll(`tr[data-ancestors~="${id}"]`);
  const childRows = (id) => document.querySelectorAll(`tr[data-parent="${id}"]`);

  const setExpanded = (button, expanded) => {
    button.setAttribute("aria-expanded", String(expanded));
    button.textContent = expanded ? "−" : "+";
    const name = button.getAttribute("aria-label").replace(/^(Expand|Collapse) /, "");
    button.setAttribute("aria-label", `${expanded ? "Collapse" : "Expand"} ${name}`);
  };

  document.addEventListener("click", (event) => {
    const button = event.target.closest(".rollup-expand");
    if (!button || !button.dataset.loaded) {
      return; // not loaded yet: HTMX fetches the rows
    }
    const id = button.dataset.node;
    if (button.getAttribute("aria-expanded") === "true") {
      rowsBelow(id).forEach((row) => {
        row.hidden = true;
      });
      setExpanded(button, false);
    } else {
      childRows(id).forEach((row) => {
        row.hidden = false;
        const inner = row.querySelector(".rollup-expand");
        if (inner && inner.getAttribute("aria-expanded") === "true") {
          setExpanded(inner, false); // their subtrees stay folded until asked for
        }
      });
      setExpanded(button, true);
    }
  });

  document.body.addEventListener("htmx:afterRequest", (event) => {
    const button = event.detail.elt;
    if (button.classList && button.classList.contains("rollup-expand") && event.detail.successful) {
      button.dataset.loaded = "1";
      setExpanded(button, true);
    }
  });
})();
