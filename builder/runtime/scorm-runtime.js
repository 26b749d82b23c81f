/* scorm-builder runtime: finds the LMS API, tracks the learner, drives navigation.
 * Templates only emit data- attributes; this file alone speaks SCORM. */
(function () {
  "use strict";
  document.documentElement.classList.remove("no-js");
  document.documentElement.classList.add("js");

  var data = JSON.parse(document.getElementById("course-data").textContent);
  var is2004 = data.scorm === "2004";

  /* ---- API discovery: parent frames (at most 500 levels), then the opener's frames. */
  function scan(win, name) {
    var tries = 0;
    while (win && tries < 500) {
      try { if (win[name]) return win[name]; } catch (e) { return null; }
      if (!win.parent || win.parent === win) break;
      win = win.parent; tries++;
    }
    return null;
  }
  function findAPI(name) {
    var api = scan(window, name);
    if (!api && window.opener) { try { api = scan(window.opener, name); } catch (e) { api = null; } }
    return api;
  }
  var api = findAPI(is2004 ? "API_1484_11" : "API");

  var lms = {
    started: false, finished: false,
    init: function () {
      if (!api || this.started) return false;
      this.started = String(is2004 ? api.Initialize("") : api.LMSInitialize("")) === "true";
      return this.started;
    },
    get: function (k) { return this.started ? String(is2004 ? api.GetValue(k) : api.LMSGetValue(k)) : ""; },
    set: function (k, v) {
      if (!this.started || this.finished) return false;
      var ok = String(is2004 ? api.SetValue(k, String(v)) : api.LMSSetValue(k, String(v))) === "true";
      if (!ok) notice("lms-error");
      return ok;
    },
    commit: function () {
      if (!this.started || this.finished) return false;
      return String(is2004 ? api.Commit("") : api.LMSCommit("")) === "true";
    },
    finish: function () {
      if (!this.started || this.finished) return;
      this.finished = true;
      if (is2004) api.Terminate(""); else api.LMSFinish("");
    }
  };

  var noticeEl = document.querySelector("[data-notice]");
  function notice(kind) {
    if (!noticeEl) return;
    noticeEl.textContent = kind === "standalone" ? noticeEl.dataset.textStandalone
      : noticeEl.dataset.textLmsError;
    noticeEl.hidden = false;
  }

  var startTime = Date.now();
  function sessionTime() {
    var s = (Date.now() - startTime) / 1000;
    if (is2004) return "PT" + Math.round(s * 100) / 100 + "S";
    var h = Math.floor(s / 3600), m = Math.floor((s % 3600) / 60), sec = s % 60;
    function pad(n, w) { n = String(n); while (n.length < w) n = "0" + n; return n; }
    return pad(h, 4) + ":" + pad(m, 2) + ":" + pad(sec.toFixed(2), 5);
  }

  if (lms.init()) {
    var status = lms.get(is2004 ? "cmi.completion_status" : "cmi.core.lesson_status");
    if (status === "not attempted" || status === "unknown" || status === "") {
      lms.set(is2004 ? "cmi.completion_status" : "cmi.core.lesson_status", "incomplete");
      lms.commit();
    }
  } else if (!api) {
    notice("standalone");
  }

  /* ---- navigation between units in one document (single mode). */
  var sections = Array.prototype.slice.call(document.querySelectorAll("[data-unit]"));
  function show(id, focus) {
    var target = document.getElementById(id);
    var section = target && target.closest("[data-unit]");
    if (!section) section = sections[0];
    sections.forEach(function (s) { s.hidden = s !== section; });
    var i = sections.indexOf(section);
    var prev = document.querySelector("[data-prev]"), next = document.querySelector("[data-next]");
    if (prev) prev.disabled = i <= 0;
    if (next) next.disabled = i >= sections.length - 1;
    document.querySelectorAll("[data-nav]").forEach(function (a) {
      if (a.dataset.nav === section.id) a.setAttribute("aria-current", "page");
      else a.removeAttribute("aria-current");
    });
    if (focus) {
      var h = target !== section ? target : section.querySelector("h1");
      if (h) { if (!h.hasAttribute("tabindex")) h.setAttribute("tabindex", "-1"); h.focus(); }
    }
    lms.set(is2004 ? "cmi.location" : "cmi.core.lesson_location", section.id);
    lms.commit();
  }
  if (sections.length > 1) {
    var pager = document.querySelector("[data-pager]");
    if (pager) pager.hidden = false;
    document.querySelector("[data-prev]").addEventListener("click", function () {
      var i = sections.indexOf(sections.filter(function (s) { return !s.hidden; })[0]);
      if (i > 0) location.hash = sections[i - 1].id;
    });
    document.querySelector("[data-next]").addEventListener("click", function () {
      var i = sections.indexOf(sections.filter(function (s) { return !s.hidden; })[0]);
      if (i < sections.length - 1) location.hash = sections[i + 1].id;
    });
    window.addEventListener("hashchange", function () { show(location.hash.slice(1), true); });
    var start = document.querySelector("[data-start]");
    if (start) start.addEventListener("click", function () { location.hash = sections[1].id; });
    var loc = lms.get(is2004 ? "cmi.location" : "cmi.core.lesson_location");
    show(location.hash.slice(1) || loc || sections[0].id, false);
  }

  /* ---- exit: save and terminate exactly once. */
  function exit() {
    if (!lms.started || lms.finished) return;
    lms.set(is2004 ? "cmi.session_time" : "cmi.core.session_time", sessionTime());
    lms.set(is2004 ? "cmi.exit" : "cmi.core.exit", "suspend");
    lms.commit();
    lms.finish();
  }
  var exitButton = document.querySelector("[data-exit]");
  if (exitButton && lms.started) {
    exitButton.hidden = false;
    exitButton.addEventListener("click", exit);
  }
  window.addEventListener("pagehide", exit);
  document.addEventListener("visibilitychange", function () {
    if (document.visibilityState === "hidden") exit();
  });
})();
