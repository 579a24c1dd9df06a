// Small behaviours shared by every page.
document.addEventListener("htmx:responseError", (event) => {
  const status = event.detail.xhr.status;
  if (status >= 500) alert(document.documentElement.lang.startsWith("es") ? "Algo salió mal; inténtelo de nuevo." : "Something went wrong; please try again.");
});

// Lookup selects: the server renders only the chosen records; the rest are
// fetched from /<org>/lookup/<app.model>/?q=... as the person types.
function initLookups(root) {
  const org = document.body.dataset.org;
  if (!org || typeof TomSelect === "undefined") return;
  root.querySelectorAll("select[data-lookup]").forEach((select) => {
    if (select.tomselect) return;
    const depends = select.dataset.lookupDepends;
    const ts = new TomSelect(select, {
      valueField: "value",
      labelField: "text",
      searchField: [],
      maxOptions: 20,
      preload: "focus",
      plugins: select.multiple ? ["remove_button"] : [],
      load(query, callback) {
        const params = new URLSearchParams({ q: query });
        if (depends) {
          const other = select.form && select.form.elements[depends];
          if (other && other.value) params.set(depends, other.value);
        }
        fetch(`/${org}/lookup/${select.dataset.lookup}/?${params}`, { headers: { Accept: "application/json" } })
          .then((r) => r.json())
          .then((data) => callback(data.results))
          .catch(() => callback());
      },
    });
    if (depends && select.form && select.form.elements[depends]) {
      select.form.elements[depends].addEventListener("change", () => { ts.clearOptions(); });
    }
  });
}
document.addEventListener("DOMContentLoaded", () => initLookups(document));
document.addEventListener("htmx:load", (event) => initLookups(event.target));
