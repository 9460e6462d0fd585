// Reload the page after data-refresh-after milliseconds (e.g. while a contract PDF is rendered).
(function () {
  var el = document.querySelector('[data-refresh-after]');
  if (el) { setTimeout(function () { window.location.reload(); }, parseInt(el.dataset.refreshAfter, 10) || 2500); }
})();
