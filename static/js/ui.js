/* Hazex page behaviour shared by every page (CSP: no inline script).
 *
 * 1. The main menu collapses behind the "Menu" button on narrow screens. Without JavaScript the
 *    button stays hidden and the menu stays open.
 * 2. Binding actions ask for confirmation: a form with data-confirm="question" shows a dialog
 *    listing what is agreed (data-confirm-total, data-confirm-quantity, data-confirm-party, with
 *    their labels in data-confirm-labels="total|quantity|party") before it is submitted. Without
 *    JavaScript the form posts directly; its button and the page already state the terms.
 * 3. Copy buttons: <button data-copy="text"> copies the text to the clipboard.
 */
(function () {
  "use strict";
  document.documentElement.classList.add("js");

  function setupNav() {
    var toggle = document.querySelector(".navtoggle");
    var nav = document.getElementById("mainnav");
    if (!toggle || !nav) { return; }
    toggle.hidden = false;
    toggle.addEventListener("click", function () {
      var open = toggle.getAttribute("aria-expanded") === "true";
      toggle.setAttribute("aria-expanded", open ? "false" : "true");
      nav.classList.toggle("open", !open);
    });
    document.addEventListener("keydown", function (e) {
      if (e.key === "Escape" && nav.classList.contains("open")) {
        nav.classList.remove("open");
        toggle.setAttribute("aria-expanded", "false");
        toggle.focus();
      }
    });
  }

  function row(dl, label, value) {
    if (!value) { return; }
    var dt = document.createElement("dt");
    dt.textContent = label;
    var dd = document.createElement("dd");
    dd.textContent = value;
    dl.appendChild(dt);
    dl.appendChild(dd);
  }

  function buildDialog(form) {
    var d = form.dataset;
    var labels = (d.confirmLabels || "||").split("|");
    var dialog = document.createElement("dialog");
    dialog.className = "confirm-dialog";
    dialog.setAttribute("data-testid", "confirm-dialog");
    dialog.setAttribute("aria-labelledby", "confirm-dialog-title");
    var h = document.createElement("h2");
    h.id = "confirm-dialog-title";
    h.textContent = d.confirm;
    dialog.appendChild(h);
    var dl = document.createElement("dl");
    dl.className = "details compact";
    row(dl, labels[0], d.confirmTotal);
    row(dl, labels[1], d.confirmQuantity);
    row(dl, labels[2], d.confirmParty);
    dialog.appendChild(dl);
    var actions = document.createElement("div");
    actions.className = "actions";
    var yes = document.createElement("button");
    yes.type = "button";
    yes.className = "primary";
    yes.textContent = d.confirmYes || "OK";
    yes.setAttribute("data-testid", "confirm-yes");
    var no = document.createElement("button");
    no.type = "button";
    no.textContent = d.confirmNo || "Cancel";
    no.setAttribute("data-testid", "confirm-no");
    actions.appendChild(yes);
    actions.appendChild(no);
    dialog.appendChild(actions);
    no.addEventListener("click", function () { dialog.close(); });
    yes.addEventListener("click", function () {
      dialog.close();
      form.dataset.confirmed = "1";
      if (form.requestSubmit) { form.requestSubmit(); } else { form.submit(); }
    });
    document.body.appendChild(dialog);
    return dialog;
  }

  function setupConfirm() {
    document.addEventListener("submit", function (e) {
      var form = e.target;
      if (!(form instanceof HTMLFormElement) || !form.dataset.confirm) { return; }
      if (form.dataset.confirmed === "1") { form.dataset.confirmed = ""; return; }
      if (typeof HTMLDialogElement === "undefined") { return; }
      e.preventDefault();
      var dialog = form._confirmDialog || (form._confirmDialog = buildDialog(form));
      dialog.showModal();
    }, true);
  }

  function setupCopy() {
    document.addEventListener("click", function (e) {
      var btn = e.target.closest ? e.target.closest("button[data-copy]") : null;
      if (!btn) { return; }
      e.preventDefault();
      var text = btn.getAttribute("data-copy");
      var done = function () {
        var old = btn.textContent;
        btn.textContent = btn.getAttribute("data-copied") || old;
        setTimeout(function () { btn.textContent = old; }, 1500);
      };
      if (navigator.clipboard && navigator.clipboard.writeText) {
        navigator.clipboard.writeText(text).then(done, function () {});
      }
    });
  }

  function start() {
    setupNav();
    setupConfirm();
    setupCopy();
  }
  if (document.readyState === "loading") {
    document.addEventListener("DOMContentLoaded", start);
  } else {
    start();
  }
}());
