// Small behaviours shared by every page.
document.addEventListener("htmx:responseError", (event) => {
  const status = event.detail.xhr.status;
  if (status >= 500) alert(document.documentElement.lang.startsWith("es") ? "Algo salió mal; inténtelo de nuevo." : "Something went wrong; please try again.");
});
