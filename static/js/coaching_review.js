// Account review page: the "Print this review" link opens the browser's print dialog
// (the print stylesheet hides navigation and forms).
document.addEventListener("click", (event) => {
  const link = event.target.closest("[data-print]");
  if (link) {
    event.preventDefault();
    window.print();
  }
});
