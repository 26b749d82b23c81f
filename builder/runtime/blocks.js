/* scorm-builder interactive blocks: tabs, accordion, click-to-reveal cards, image zoom.
   The pages hold plain sections that read and print without this file; it only adds the
   interaction, and keeps each block's state (open tab, open sections, cards shown) in
   localStorage, per course, so that a learner who comes back finds the blocks as they left them.
   It never speaks to the LMS. */
(function () {
  "use strict";
  var doc = document;
  function $$(sel, el) { return Array.prototype.slice.call((el || doc).querySelectorAll(sel)); }
  function kids(el, cls) {
    return Array.prototype.filter.call(el.children, function (c) { return c.classList.contains(cls); });
  }
  function heading(el) { return el.querySelector("h1, h2, h3, h4, h5, h6"); }

  var key = "scormbuilder.blocks";
  try { key += "." + JSON.parse(doc.getElementById("course-data").textContent).id; } catch (e) { /* no data */ }
  var state = {};
  try { state = JSON.parse(localStorage.getItem(key) || "{}") || {}; } catch (e) { state = {}; }
  function save(id, value) {
    state[id] = value;
    try { localStorage.setItem(key, JSON.stringify(state)); } catch (e) { /* private mode: no memory */ }
  }
  var uid = 0;
  /* Each tabs block's "show this panel" function, for links to a heading inside a panel. */
  var showPanel = new Map();
  function idOf(el, stem) {
    if (!el.id) el.id = stem + "-" + (++uid);
    return el.id;
  }

  /* Tabs: the WAI-ARIA pattern, automatic activation. */
  function setupTabs(block) {
    var panels = kids(block, "block-tab");
    if (!panels.length) return;
    var list = doc.createElement("div");
    list.className = "block-tablist";
    list.setAttribute("role", "tablist");
    list.setAttribute("aria-label", block.getAttribute("data-label") || "");
    var tabs = panels.map(function (panel, i) {
      var h = heading(panel);
      var tab = doc.createElement("button");
      tab.type = "button";
      tab.className = "block-tab-button";
      tab.setAttribute("role", "tab");
      tab.id = block.id + "-tab-" + i;
      tab.textContent = h ? h.textContent : String(i + 1);
      tab.setAttribute("aria-controls", idOf(panel, block.id + "-panel"));
      panel.setAttribute("role", "tabpanel");
      panel.setAttribute("aria-labelledby", tab.id);
      panel.tabIndex = 0;
      if (h) h.classList.add("block-tab-heading");
      list.appendChild(tab);
      return tab;
    });
    block.insertBefore(list, panels[0]);
    function select(n, focus) {
      tabs.forEach(function (tab, i) {
        var on = i === n;
        tab.setAttribute("aria-selected", on ? "true" : "false");
        tab.tabIndex = on ? 0 : -1;
        panels[i].classList.toggle("is-inactive", !on);
      });
      if (focus) tabs[n].focus();
      save(block.id, n);
    }
    list.addEventListener("click", function (ev) {
      var i = tabs.indexOf(ev.target.closest("[role=tab]"));
      if (i >= 0) select(i, true);
    });
    list.addEventListener("keydown", function (ev) {
      var i = tabs.indexOf(doc.activeElement), n = tabs.length, rtl = getComputedStyle(block).direction === "rtl";
      var step = { ArrowRight: rtl ? -1 : 1, ArrowLeft: rtl ? 1 : -1 }[ev.key];
      var to = step ? (i + step + n) % n : ev.key === "Home" ? 0 : ev.key === "End" ? n - 1 : -1;
      if (i < 0 || to < 0) return;
      ev.preventDefault();
      select(to, true);
    });
    var saved = state[block.id];
    select(typeof saved === "number" && saved < tabs.length ? saved : 0, false);
    showPanel.set(block, function (panel) { select(panels.indexOf(panel), false); });
    block.setAttribute("data-enhanced", "");
  }

  /* Accordion: native <details>; only remembered here. */
  function setupAccordion(block) {
    var parts = kids(block, "block-section");
    var saved = state[block.id];
    if (Array.isArray(saved)) parts.forEach(function (d, i) { d.open = saved.indexOf(i) >= 0; });
    parts.forEach(function (d) {
      d.addEventListener("toggle", function () {
        save(block.id, parts.reduce(function (acc, p, i) { return p.open ? acc.concat(i) : acc; }, []));
      });
    });
    block.setAttribute("data-enhanced", "");
  }

  /* Click-to-reveal cards: a button under each prompt shows or hides its answer. */
  function setupCards(block) {
    var cards = kids(block, "block-card");
    var shown = Array.isArray(state[block.id]) ? state[block.id] : [];
    cards.forEach(function (card, i) {
      var answer = kids(card, "block-card-answer")[0];
      if (!answer) return;
      var h = heading(card);
      var button = doc.createElement("button");
      button.type = "button";
      button.className = "block-card-button";
      button.setAttribute("aria-controls", idOf(answer, block.id + "-answer"));
      if (h) button.setAttribute("aria-describedby", h.id);
      function show(on) {
        button.setAttribute("aria-expanded", on ? "true" : "false");
        button.textContent = block.getAttribute(on ? "data-hide" : "data-show");
        answer.classList.toggle("is-concealed", !on);
      }
      button.addEventListener("click", function () {
        var on = button.getAttribute("aria-expanded") !== "true";
        show(on);
        shown = shown.filter(function (n) { return n !== i; }).concat(on ? [i] : []);
        save(block.id, shown);
      });
      card.insertBefore(button, answer);
      show(shown.indexOf(i) >= 0);
    });
    block.setAttribute("data-enhanced", "");
  }

  /* Image zoom: a button opens the image at full size in a modal dialog; Escape or Close
     closes it and focus goes back to the button. */
  function setupZoom(figure) {
    var img = figure.querySelector("img");
    if (!img) return;
    var caption = figure.querySelector("figcaption");
    var button = doc.createElement("button");
    button.type = "button";
    button.className = "block-zoom-button";
    button.textContent = figure.getAttribute("data-zoom");
    if (caption) button.setAttribute("aria-describedby", idOf(caption, "block-caption"));
    button.addEventListener("click", function () {
      var dialog = doc.createElement("dialog");
      dialog.className = "block-zoom-dialog";
      if (caption) dialog.setAttribute("aria-labelledby", caption.id);
      else dialog.setAttribute("aria-label", button.textContent);
      var close = doc.createElement("button");
      close.type = "button";
      close.className = "block-zoom-close";
      close.textContent = figure.getAttribute("data-close");
      close.addEventListener("click", function () { dialog.close(); });
      var big = img.cloneNode();
      big.removeAttribute("loading");
      var frame = doc.createElement("div");
      frame.className = "block-zoom-frame";
      frame.appendChild(big);
      dialog.appendChild(close);
      dialog.appendChild(frame);
      dialog.addEventListener("close", function () {
        dialog.remove();
        button.focus();
      });
      doc.body.appendChild(dialog);
      dialog.showModal();
      close.focus();
    });
    figure.insertBefore(button, caption);
    figure.setAttribute("data-enhanced", "");
  }

  /* A link to a heading inside a closed tab or section opens it. */
  function reveal() {
    var target = location.hash && doc.getElementById(decodeURIComponent(location.hash.slice(1)));
    if (!target) return;
    var panel = target.closest(".block-tab");
    var show = panel && showPanel.get(panel.parentNode);
    if (show) show(panel);
    var details = target.closest("details");
    if (details) details.open = true;
  }

  /* Printing from the learner's page shows every section, then puts the page back. */
  var closed = [];
  window.addEventListener("beforeprint", function () {
    closed = $$(".block-accordion details:not([open])");
    closed.forEach(function (d) { d.open = true; });
  });
  window.addEventListener("afterprint", function () {
    closed.forEach(function (d) { d.open = false; });
  });

  $$("[data-block=tabs]").forEach(setupTabs);
  $$("[data-block=accordion]").forEach(setupAccordion);
  $$("[data-block=reveal]").forEach(setupCards);
  $$("[data-block=zoom]").forEach(setupZoom);
  window.addEventListener("hashchange", reveal);
  reveal();
})();
