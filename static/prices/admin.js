/* Polls the status of each running publication run and updates its progress bar; reloads the
   page when a run ends so the new release is listed. */
(function () {
  "use strict";
  var rows = document.querySelectorAll("[data-poll]");
  if (!rows.length) { return; }
  function poll() {
    var pending = 0;
    rows.forEach(function (row) {
      if (row.getAttribute("data-status") === "done" || row.getAttribute("data-status") === "failed") { return; }
      pending += 1;
      fetch(row.getAttribute("data-poll"), { headers: { "Accept": "application/json" }, credentials: "same-origin" })
        .then(function (r) { return r.json(); })
        .then(function (s) {
          row.querySelector("[data-testid=run-progress]").value = s.progress;
          row.setAttribute("data-status", s.status);
          row.querySelector("[data-testid=run-status]").textContent = s.status + " " + (s.message || "");
          if (s.status === "done" || s.status === "failed") { window.location.reload(); }
        });
    });
    if (pending) { window.setTimeout(poll, 1500); }
  }
  window.setTimeout(poll, 1000);
})();
