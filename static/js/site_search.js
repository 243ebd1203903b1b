// The header's search box: suggestions from /api/v1/search/ as you type (the session signs the
// request), ↑/↓ to move through them, Enter to open the one chosen (or the /search/ page when
// none is), Esc to close. The list is an ARIA listbox driven by aria-activedescendant, so focus
// stays in the box and screen readers announce the option.
(() => {
  const input = document.getElementById("site-search-q");
  const list = document.getElementById("site-search-list");
  if (!input || !list) return;
  const MIN_LENGTH = 2;
  const DELAY_MS = 150;
  const LABELS = {
    account: "Accounts",
    contact: "Contacts",
    opportunity: "Opportunities",
    activity: "Activities",
  };
  let timer = null;
  let pending = null;
  let active = -1;

  const options = () => Array.from(list.querySelectorAll("[role=option]"));

  function close() {
    list.hidden = true;
    input.setAttribute("aria-expanded", "false");
    input.removeAttribute("aria-activedescendant");
    active = -1;
  }

  function highlight(index) {
    const items = options();
    if (!items.length) return;
    active = (index + items.length) % items.length;
    items.forEach((item, i) => item.setAttribute("aria-selected", String(i === active)));
    input.setAttribute("aria-activedescendant", items[active].id);
    items[active].scrollIntoView({ block: "nearest" });
  }

  function option(id, href, title, detail) {
    const item = document.createElement("li");
    item.id = id;
    item.setAttribute("role", "option");
    item.setAttribute("aria-selected", "false");
    item.dataset.href = href;
    item.className = "sitesearch__option";
    const strong = document.createElement("span");
    strong.className = "sitesearch__title";
    strong.textContent = title;
    item.append(strong);
    if (detail) {
      const small = document.createElement("span");
      small.className = "sitesearch__detail";
      small.textContent = detail;
      item.append(small);
    }
    return item;
  }

  function render(query, hits) {
    list.replaceChildren();
    let kind = null;
    hits.forEach((hit, i) => {
      if (hit.kind !== kind) {
        kind = hit.kind;
        const heading = document.createElement("li");
        heading.setAttribute("role", "presentation");
        heading.className = "sitesearch__group";
        heading.textContent = LABELS[kind] || kind;
        list.append(heading);
      }
      list.append(option(`site-search-option-${i}`, hit.url, hit.title, hit.detail));
    });
    const all = `${input.form.action}?q=${encodeURIComponent(query)}`;
    const label = hits.length ? `See all results for “${query}”` : `No matches: search for “${query}”`;
    list.append(option("site-search-option-all", all, label, ""));
    list.hidden = false;
    input.setAttribute("aria-expanded", "true");
    input.removeAttribute("aria-activedescendant");
    active = -1;
  }

  async function suggest() {
    const query = input.value.trim();
    if (query.length < MIN_LENGTH) {
      close();
      return;
    }
    if (pending) pending.abort();
    pending = new AbortController();
    const url = `${input.dataset.suggestUrl}?q=${encodeURIComponent(query)}&page_size=5`;
    try {
      const response = await fetch(url, {
        headers: { Accept: "application/json" },
        credentials: "same-origin",
        signal: pending.signal,
      });
      if (!response.ok) return;
      const data = await response.json();
      if (input.value.trim() === query) render(query, data.results);
    } catch (error) {
      if (error.name !== "AbortError") close();
    }
  }

  input.addEventListener("input", () => {
    clearTimeout(timer);
    timer = setTimeout(suggest, DELAY_MS);
  });

  input.addEventListener("keydown", (event) => {
    if (event.key === "ArrowDown" || event.key === "ArrowUp") {
      if (list.hidden) {
        suggest();
        return;
      }
      event.preventDefault();
      highlight(active + (event.key === "ArrowDown" ? 1 : -1));
    } else if (event.key === "Enter" && !list.hidden && active >= 0) {
      event.preventDefault();
      window.location.assign(options()[active].dataset.href);
    } else if (event.key === "Escape" && !list.hidden) {
      event.preventDefault();
      close();
    }
  });

  // mousedown, not click: a click would blur the box (closing the list) before it lands.
  list.addEventListener("mousedown", (event) => {
    const item = event.target.closest("[role=option]");
    if (item) {
      event.preventDefault();
      window.location.assign(item.dataset.href);
    }
  });

  input.addEventListener("blur", close);
})();
