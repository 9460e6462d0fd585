/* Hazex inputs that help (CSP: no inline script; no library).
 *
 * 1. Region picker ([data-region-picker], templates/_forms.html region_field): choosing a province
 *    loads its cities, a city its districts (GET /catalog/regions?parent=…); a search box finds a
 *    region by name (GET /catalog/regions?q=南山) and sets all three levels. The form still posts
 *    the selects; the server takes the deepest level chosen. Without JavaScript the "Show cities and
 *    districts" button redraws the form with the next level.
 * 2. Waste search ([data-waste-search], waste_search): suggestions appear as one types
 *    (GET /catalog/waste?q=…); choosing one sets the category select and the code input in the page,
 *    so nothing else typed is lost. Without JavaScript the Search and suggestion buttons post the
 *    form as a step within it and the server redraws it with everything kept.
 * 3. Error summary (templates/_forms.html form_errors): it takes the focus when the page opens, and
 *    each of its links puts the focus in the field it names (a link to a fragment only scrolls).
 */
(function () {
  "use strict";

  function getJSON(url) {
    return fetch(url, {headers: {"Accept": "application/json"}, credentials: "same-origin"})
      .then(function (resp) {
        return resp.json().then(function (body) {
          if (!resp.ok) { throw new Error((body.error && body.error.message) || String(resp.status)); }
          return body;
        });
      });
  }

  function debounce(fn, ms) {
    var timer = null;
    return function () {
      var args = arguments;
      clearTimeout(timer);
      timer = setTimeout(function () { fn.apply(null, args); }, ms);
    };
  }

  /* ---- region picker ---- */

  // A search box: searches as one types and on Enter; the down arrow moves into the suggestions.
  function searchAsYouType(input, results, run) {
    input.addEventListener("input", run);
    input.addEventListener("keydown", function (e) {
      if (e.key === "Enter") { e.preventDefault(); run(); }
      if (e.key === "ArrowDown") {
        var first = results.querySelector("button");
        if (first) { e.preventDefault(); first.focus(); }
      }
    });
  }

  function fillSelect(select, regions, none, chosen) {
    while (select.options.length) { select.remove(0); }
    select.add(new Option(none, ""));
    regions.forEach(function (r) { select.add(new Option(r.name, r.code, false, r.code === chosen)); });
    select.disabled = regions.length === 0;
  }

  function setupRegionPicker(box) {
    var url = box.dataset.url;
    var none = box.dataset.none;
    var selects = Array.prototype.slice.call(box.querySelectorAll("select[data-level]"));
    var search = box.querySelector("[data-region-search]");
    var input = search.querySelector("input");
    var results = box.querySelector("[data-region-results]");
    var status = box.querySelector("[data-region-status]");
    var chosen = box.querySelector("[data-region-chosen]");
    var refine = box.querySelector("[data-region-refine]");
    search.hidden = false;
    if (refine) { refine.hidden = true; }
    selects.slice(1).forEach(function (s) { if (s.options.length <= 1) { s.disabled = true; } });

    function showChosen() {
      var names = [], code = "";
      selects.forEach(function (s) {
        if (s.value) { names.push(s.options[s.selectedIndex].text); code = s.value; }
      });
      chosen.textContent = "";
      if (!code) { return; }
      chosen.appendChild(document.createTextNode(names.join(" \u203a ") + " "));
      var c = document.createElement("span");
      c.className = "muted";
      c.textContent = "(" + code + ")";
      chosen.appendChild(c);
    }

    function load(level, parent, value) {
      // Fill the select of `level` with the children of `parent`, then clear the levels below it.
      for (var i = level + 1; i < selects.length; i++) { fillSelect(selects[i], [], none, ""); }
      if (!parent) { fillSelect(selects[level], [], none, ""); return Promise.resolve(); }
      return getJSON(url + "?parent=" + encodeURIComponent(parent)).then(function (body) {
        fillSelect(selects[level], body.regions, none, value || "");
      });
    }

    selects.forEach(function (select, level) {
      select.addEventListener("change", function () {
        var next = level + 1 < selects.length
          ? load(level + 1, select.value, "") : Promise.resolve();
        next.then(showChosen, showChosen);
      });
    });

    function choose(hit) {
      var codes = hit.codes;
      selects[0].value = codes[0];
      var steps = load(1, codes[0], codes[1] || "");
      if (codes.length > 2) {
        steps = steps.then(function () { return load(2, codes[1], codes[2]); });
      }
      return steps.then(function () {
        results.hidden = true;
        results.textContent = "";
        input.value = "";
        showChosen();
        selects[Math.min(codes.length, selects.length) - 1].focus();
      });
    }

    var run = debounce(function () {
      var q = input.value.trim();
      results.textContent = "";
      if (!q) { results.hidden = true; status.textContent = ""; return; }
      getJSON(url + "?q=" + encodeURIComponent(q) + "&limit=12").then(function (body) {
        results.textContent = "";
        if (!body.regions.length) {
          var li = document.createElement("li");
          li.className = "muted";
          li.textContent = box.dataset.noMatch;
          results.appendChild(li);
        }
        body.regions.forEach(function (hit) {
          var li = document.createElement("li");
          var b = document.createElement("button");
          b.type = "button";
          b.setAttribute("data-testid", "region-suggestion");
          b.setAttribute("data-code", hit.code);
          b.textContent = hit.label + " ";
          var c = document.createElement("span");
          c.className = "muted";
          c.textContent = "(" + hit.code + ")";
          b.appendChild(c);
          b.addEventListener("click", function () { choose(hit); });
          li.appendChild(b);
          results.appendChild(li);
        });
        results.hidden = false;
        status.textContent = String(body.regions.length);
      }).catch(function (err) { status.textContent = err.message; });
    }, 200);
    searchAsYouType(input, results, run);
    if (box.hasAttribute("data-multi")) { setupRegionList(box, selects, chosen, load); }
  }

  function asPrefix(code) {
    if (/0000$/.test(code)) { return code.slice(0, 2); }
    return /00$/.test(code) ? code.slice(0, 4) : code;
  }

  function setupRegionList(box, selects, chosen, load) {
    // Several regions: "Add region" moves the picker's choice into the list of ticked boxes.
    var list = box.querySelector("[data-region-list]");
    var add = box.querySelector("[data-region-add]");
    add.addEventListener("click", function (e) {
      e.preventDefault();
      var code = "", names = [];
      selects.forEach(function (s) {
        if (s.value) { code = s.value; names.push(s.options[s.selectedIndex].text); }
      });
      if (!code) { selects[0].focus(); return; }
      var value = box.dataset.prefixes ? asPrefix(code) : code;
      var present = Array.prototype.some.call(list.querySelectorAll("input"), function (i) {
        return i.value === value;
      });
      if (!present) {
        var li = document.createElement("li");
        var label = document.createElement("label");
        var tick = document.createElement("input");
        tick.type = "checkbox";
        tick.name = box.dataset.name;
        tick.value = value;
        tick.checked = true;
        tick.setAttribute("data-testid", "region-kept");
        label.appendChild(tick);
        label.appendChild(document.createTextNode(" " + names.join(" \u203a ") + " (" + code + ")"));
        li.appendChild(label);
        list.appendChild(li);
      }
      selects[0].value = "";
      load(1, "", "").then(function () { chosen.textContent = ""; selects[0].focus(); });
    });
  }

  /* ---- waste search ---- */

  function setupWasteSearch(box) {
    var url = box.dataset.url;
    var input = box.querySelector("input[type=search]");
    var results = box.querySelector("[data-waste-results]");
    var status = box.querySelector("[data-waste-status]");
    var category = document.getElementById(box.dataset.category);
    var code = document.getElementById(box.dataset.code);

    function pick(cat, wasteCode, label) {
      if (category) {
        category.value = cat;
        category.dispatchEvent(new Event("change", {bubbles: true}));
      }
      if (code) { code.value = wasteCode || ""; }
      results.hidden = true;
      results.textContent = "";
      status.textContent = box.dataset.chosen.replace("{what}", label);
      (code && wasteCode ? code : category || input).focus();
    }

    function suggestion(s) {
      var li = document.createElement("li");
      var b = document.createElement("button");
      b.type = "button";
      b.setAttribute("data-testid", "waste-suggestion");
      b.setAttribute("data-category", s.category);
      b.setAttribute("data-code", s.code || "");
      var strong = document.createElement("strong");
      strong.textContent = s.code || s.category;
      b.appendChild(strong);
      b.appendChild(document.createTextNode(" " + (s.code ? s.category + " " : "") + s.category_name + " "));
      var more = document.createElement("span");
      more.className = "muted";
      var bits = [];
      if (s.matched !== s.code && s.matched !== s.category) { bits.push("\u201c" + s.matched + "\u201d"); }
      if (s.description) {
        bits.push(s.description.length > 70 ? s.description.slice(0, 67) + "\u2026" : s.description);
      }
      more.textContent = bits.join(" \u00b7 ");
      b.appendChild(more);
      var label = (s.code ? s.code + " " : "") + s.category + " " + s.category_name;
      b.addEventListener("click", function () { pick(s.category, s.code, label); });
      li.appendChild(b);
      return li;
    }

    var run = debounce(function () {
      var q = input.value.trim();
      if (!q) { results.hidden = true; results.textContent = ""; status.textContent = ""; return; }
      getJSON(url + "?q=" + encodeURIComponent(q)).then(function (body) {
        results.textContent = "";
        if (!body.results.length) {
          var li = document.createElement("li");
          li.className = "muted";
          li.textContent = box.dataset.none;
          results.appendChild(li);
        }
        body.results.forEach(function (s) { results.appendChild(suggestion(s)); });
        results.hidden = false;
        status.textContent = box.dataset.count.replace("{n}", String(body.results.length));
      }).catch(function (err) { status.textContent = err.message; });
    }, 200);

    searchAsYouType(input, results, run);
    // The server-drawn suggestions (after a search without JavaScript) fill the fields in the page.
    results.addEventListener("click", function (e) {
      var b = e.target.closest("button[name=_refine]");
      if (!b) { return; }
      e.preventDefault();
      pick(b.dataset.category, b.dataset.code, b.textContent.replace(/\s+/g, " ").trim());
    });
    var submit = box.querySelector("button[name=_refine][value=waste]");
    if (submit) {
      submit.addEventListener("click", function (e) { e.preventDefault(); run(); });
    }
  }

  /* ---- error summary ---- */

  function fieldFor(id) {
    var target = document.getElementById(id);
    if (!target) { return null; }
    if (!/^(INPUT|SELECT|TEXTAREA|BUTTON)$/.test(target.tagName)) {
      target = target.querySelector("input, select, textarea") || target;
    }
    if (target.disabled) {
      // an empty level of the region picker: start again from its search box or first level
      var box = target.closest("[data-region-picker]");
      if (box) { target = box.querySelector("input[type=search]:not([hidden])") || box.querySelector("select"); }
    }
    return target;
  }

  function setupErrorSummary(summary) {
    summary.focus();
    summary.addEventListener("click", function (e) {
      var a = e.target.closest("a[href^='#']");
      if (!a) { return; }
      var target = fieldFor(a.getAttribute("href").slice(1));
      if (!target) { return; }
      e.preventDefault();
      target.focus();
      target.scrollIntoView({block: "center"});
    });
  }

  /* ---- Enter submits the form, not the first step button ----
     Forms with a region picker or a waste search carry "step" buttons (name=_refine) before their
     own submit button; the browser's implicit submission would press the first of them. */

  function setupImplicitSubmit(form) {
    form.addEventListener("keydown", function (e) {
      var t = e.target;
      if (e.key !== "Enter" || e.defaultPrevented || t.tagName !== "INPUT" ||
          /^(search|submit|button|checkbox|radio|file)$/.test(t.type)) { return; }
      var main = form.querySelector("button[type=submit]:not([name=_refine]), input[type=submit]");
      if (!main) { return; }
      e.preventDefault();
      if (form.requestSubmit) { form.requestSubmit(main); } else { main.click(); }
    });
  }

  function init() {
    Array.prototype.forEach.call(document.querySelectorAll("form"), function (form) {
      if (form.querySelector("button[name=_refine]")) { setupImplicitSubmit(form); }
    });
    Array.prototype.forEach.call(document.querySelectorAll("[data-testid=error-summary]"), setupErrorSummary);
    Array.prototype.forEach.call(document.querySelectorAll("[data-region-picker]"), setupRegionPicker);
    Array.prototype.forEach.call(document.querySelectorAll("[data-waste-search]"), setupWasteSearch);
  }

  if (document.readyState === "loading") {
    document.addEventListener("DOMContentLoaded", init);
  } else {
    init();
  }
}());
