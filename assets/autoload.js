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
