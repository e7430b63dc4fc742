// "Load more" buttons marked data-autoload click themselves when scrolled into view, so
// a Leads column loads its next cards as the user scrolls (the button stays for keyboards).
(function () {
  const seen = new WeakSet();
  const observer = new IntersectionObserver((entries) => {
    for (const entry of entries) {
      if (entry.isIntersecting && !entry.target.disabled) {
        entry.target.click();
        // Look again once the new cards are in: a short column may still show the button.
        observer.unobserve(entry.target);
        setTimeout(() => observer.observe(entry.target), 800);
      }
    }
  }, { rootMargin: "120px" });
  const watch = () => {
    document.querySelectorAll("[data-autoload]").forEach((element) => {
      if (!seen.has(element)) { seen.add(element); observer.observe(element); }
    });
  };
  new MutationObserver(watch).observe(document.documentElement, { childList: true, subtree: true });
  watch();
})();

// A table too wide for a phone scrolls sideways inside Radix's scroll area: make that area
// focusable so keyboard users can scroll it with the arrow keys (WCAG 2.1.1).
(function () {
  const tag = () => {
    document.querySelectorAll(".rt-TableRoot .rt-ScrollAreaViewport:not([tabindex])")
      .forEach((viewport) => viewport.setAttribute("tabindex", "0"));
  };
  new MutationObserver(tag).observe(document.documentElement, { childList: true, subtree: true });
  tag();
})();

// Keyboard shortcuts (listed by "?", in the sidebar's "Keyboard shortcuts"):
//   /  search · f  Filters · ?  this list · ↑ ↓  move between table rows · Enter  open it.
// Letters are ignored while typing in a field, and while a dialog is open.
(function () {
  const typing = (el) =>
    el && (el.isContentEditable || /^(INPUT|TEXTAREA|SELECT)$/.test(el.tagName));
  const dialogOpen = () =>
    document.querySelector('[role="dialog"], [role="alertdialog"], [role="menu"], [role="listbox"]');
  const rowsOf = (table) => Array.from(table.querySelectorAll("tbody tr[data-row-nav]"));
  document.addEventListener("keydown", (event) => {
    if (event.ctrlKey || event.metaKey || event.altKey || event.defaultPrevented) return;
    const active = document.activeElement;
    const row = active && active.closest && active.closest("tr[data-row-nav]");
    if (row && active === row) {
      const rows = rowsOf(row.closest("table"));
      const at = rows.indexOf(row);
      if (event.key === "ArrowDown" || event.key === "ArrowUp") {
        const next = rows[at + (event.key === "ArrowDown" ? 1 : -1)];
        if (next) next.focus();
        event.preventDefault();
        return;
      }
      if (event.key === "Enter") {
        const open = row.querySelector("[data-open-row]");
        if (open) open.click();
        event.preventDefault();
        return;
      }
    }
    if (typing(active) || dialogOpen()) return;
    if (event.key === "/") {
      const search = document.querySelector('main input[type="search"]');
      if (search) { search.focus(); search.select(); event.preventDefault(); }
    } else if (event.key === "f") {
      const filters = document.querySelector("[data-shortcut-filters]");
      if (filters) { filters.click(); event.preventDefault(); }
    } else if (event.key === "?") {
      const list = document.querySelector("[data-shortcut-list]");
      if (list) { list.click(); event.preventDefault(); }
    } else if (event.key === "ArrowDown" && !row) {
      // From anywhere outside a field: into the first row of the table.
      const table = document.querySelector("table[data-row-nav-table]");
      const first = table && rowsOf(table)[0];
      if (first && (!active || active === document.body)) { first.focus(); event.preventDefault(); }
    }
  });
})();
