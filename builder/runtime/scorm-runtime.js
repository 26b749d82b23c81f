/* scorm-builder tracker: the only code that speaks SCORM.
 *
 * course-ui.js calls its semantic facade (window.scormBuilder.tracker): pageViewed,
 * answerChanged, quizSubmitted, navigate, exit. The tracker keeps the learner's state, encodes
 * it into suspend_data, derives statuses and scores, checks every value against its SCORM
 * version's rules before sending it, commits (throttled) and terminates exactly once.
 * Without an LMS the same code runs against a small localStorage stand-in (standalone mode).
 *
 * The page holds the course data (`#course-data`); assets/package.js, loaded first, the SCORM
 * version of the package (`window.scormBuilderPackage.scorm`), so that both versions' packages
 * share the same pages. */
(function () {
  "use strict";
  var dataEl = document.getElementById("course-data");
  if (!dataEl) return;
  var course = JSON.parse(dataEl.textContent);
  var pkg = window.scormBuilderPackage;
  var known = !!pkg && (pkg.scorm === "1.2" || pkg.scorm === "2004");
  if (!known && window.console) {
    // Without the version, no LMS call can be right: run standalone rather than guess.
    window.console.warn("scorm-builder: assets/package.js did not load (or is not this " +
      "builder's): the course runs without the LMS, and nothing is reported to it");
  }
  var SCORM = known ? pkg.scorm : "2004";
  var V12 = SCORM === "1.2";
  var SINGLE = course.mode === "single";
  var units = course.units;
  var COMMIT_EVERY_MS = 3000;
  var SUSPEND_LIMIT = V12 ? 4096 : 64000;

  /* ------------------------------------------------------------------ element names */
  var E = V12 ? {
    status: "cmi.core.lesson_status", entry: "cmi.core.entry", exit: "cmi.core.exit",
    location: "cmi.core.lesson_location", session: "cmi.core.session_time",
    raw: "cmi.core.score.raw", min: "cmi.core.score.min", max: "cmi.core.score.max",
    suspend: "cmi.suspend_data"
  } : {
    completion: "cmi.completion_status", success: "cmi.success_status", entry: "cmi.entry",
    exit: "cmi.exit", location: "cmi.location", session: "cmi.session_time",
    scaled: "cmi.score.scaled", raw: "cmi.score.raw", min: "cmi.score.min",
    max: "cmi.score.max", progress: "cmi.progress_measure", suspend: "cmi.suspend_data",
    nav: "adl.nav.request"
  };
  var FN = V12
    ? { init: "LMSInitialize", finish: "LMSFinish", get: "LMSGetValue", set: "LMSSetValue",
      commit: "LMSCommit", error: "LMSGetLastError" }
    : { init: "Initialize", finish: "Terminate", get: "GetValue", set: "SetValue",
      commit: "Commit", error: "GetLastError" };

  /* ------------------------------------------------------------------ value rules
   * Each value is checked before it is sent: what a strict LMS would reject never leaves.
   * The rules are the specification's, narrowed to what Moodle accepts (SCORM 1.2 vocabularies,
   * 2004 timestamps with at most two decimals and a year in 1970-2038, response identifiers
   * of letters, digits, "_" and "." only). */
  function maxLen(n) { return function (v) { return v.length <= n; }; }
  function oneOf(re) { return function (v) { return re.test(v); }; }
  function range(lo, hi, decimals) {
    var re = new RegExp("^-?\\d{1,10}(\\.\\d{1," + decimals + "})?$");
    return function (v) { return re.test(v) && +v >= lo && +v <= hi; };
  }
  var ID12 = oneOf(/^[\x21-\x7e]{1,255}$/);
  var ID2004 = oneOf(/^[\w\-()+.:=@;$!*'%/#]{1,250}$/);
  var SHORT_ID = /^[\w.]{1,250}$/; // Moodle's rule for response identifiers
  var TIME2004 = new RegExp("^(19[7-9]\\d|20[0-2]\\d|203[0-8])-(0[1-9]|1[0-2])" +
    "-(0[1-9]|[12]\\d|3[01])T([01]\\d|2[0-3]):[0-5]\\d:[0-5]\\d" +
    "(\\.\\d{1,2}(Z|[+-]([01]\\d|2[0-3])(:[0-5]\\d)?)?)?$");
  /* The interaction types sent, by index: a response's format depends on its type. */
  var interactionTypes = {};
  function splitAll(v, sep) { return v === "" ? [] : v.split(sep); }
  function response2004(v, m) {
    var type = interactionTypes[m[1]];
    if (type === "choice" || type === "sequencing") {
      return v === "" || splitAll(v, "[,]").every(function (id) { return SHORT_ID.test(id); });
    }
    if (type === "likert") return SHORT_ID.test(v);
    if (type === "matching") {
      return splitAll(v, "[,]").every(function (pair) {
        var sides = pair.split("[.]");
        return sides.length === 2 && SHORT_ID.test(sides[0]) && SHORT_ID.test(sides[1]);
      });
    }
    if (type === "true-false") return /^(true|false)$/.test(v);
    // Text: no newline (Moodle's pattern is one line) and no leading "{" outside a tag.
    var max = type === "long-fill-in" ? 4000 : 250;
    return !/[\r\n]/.test(v) && splitAll(v, "[,]").every(function (t) {
      return t.replace(/^\{case_matters=(true|false)\}/, "").length <= max;
    });
  }
  var RULES = V12 ? [
    [/^cmi\.core\.lesson_status$/, oneOf(/^(passed|completed|failed|incomplete|browsed)$/)],
    [/^cmi\.core\.exit$/, oneOf(/^(suspend|)$/)],
    [/^cmi\.core\.lesson_location$/, maxLen(255)],
    [/^cmi\.suspend_data$/, maxLen(4096)],
    [/^cmi\.core\.session_time$/, oneOf(/^\d{2,4}:[0-5]\d:[0-5]\d(\.\d{1,2})?$/)],
    [/score\.(raw|min|max)$/, range(0, 100, 2)],
    [/^cmi\.objectives\.\d+\.id$/, ID12],
    [/^cmi\.objectives\.\d+\.status$/, oneOf(/^(passed|completed|failed|incomplete)$/)],
    [/^cmi\.interactions\.\d+\.(id|objectives\.\d+\.id)$/, ID12],
    [/^cmi\.interactions\.\d+\.type$/,
      oneOf(/^(true-false|choice|fill-in|matching|sequencing|likert)$/)],
    [/^cmi\.interactions\.\d+\.(student_response|correct_responses\.\d+\.pattern)$/,
      maxLen(255)],
    [/^cmi\.interactions\.\d+\.result$/, oneOf(/^(correct|wrong|neutral)$/)],
    [/^cmi\.interactions\.\d+\.time$/, oneOf(/^([01]\d|2[0-3]):[0-5]\d:[0-5]\d$/)],
    [/^cmi\.interactions\.\d+\.latency$/, oneOf(/^\d{2,4}:[0-5]\d:[0-5]\d(\.\d{1,2})?$/)],
    [/^cmi\.interactions\.\d+\.weighting$/, range(0, 100, 2)]
  ] : [
    [/^cmi\.(objectives\.\d+\.)?completion_status$/, oneOf(/^(completed|incomplete)$/)],
    [/^cmi\.(objectives\.\d+\.)?success_status$/, oneOf(/^(passed|failed)$/)],
    [/^cmi\.exit$/, oneOf(/^(suspend|normal)$/)],
    [/^cmi\.location$/, maxLen(1000)],
    [/^cmi\.suspend_data$/, maxLen(64000)],
    [/^cmi\.session_time$/, oneOf(/^PT(\d+H)?(\d+M)?\d+(\.\d{1,2})?S$/)],
    [/score\.scaled$/, range(-1, 1, 7)],
    [/score\.(raw|min|max)$/, range(0, 100, 2)],
    [/progress_measure$/, range(0, 1, 7)],
    [/^cmi\.(objectives|interactions\.\d+\.objectives)\.\d+\.id$/, ID2004],
    [/^cmi\.interactions\.\d+\.id$/, ID2004],
    [/^cmi\.interactions\.\d+\.type$/,
      oneOf(/^(true-false|choice|fill-in|long-fill-in|matching|sequencing|likert)$/)],
    [/^cmi\.interactions\.(\d+)\.(learner_response|correct_responses\.\d+\.pattern)$/,
      response2004],
    [/^cmi\.interactions\.\d+\.description$/, function (v) {
      return v.length <= 250 && !/[\r\n]/.test(v) && v[0] !== "{";
    }],
    [/^cmi\.interactions\.\d+\.result$/, oneOf(/^(correct|incorrect|neutral)$/)],
    [/^cmi\.interactions\.\d+\.timestamp$/, oneOf(TIME2004)],
    [/^cmi\.interactions\.\d+\.latency$/, oneOf(/^PT(\d+H)?(\d+M)?\d+(\.\d{1,2})?S$/)],
    [/^cmi\.interactions\.\d+\.weighting$/, range(0, 100, 2)],
    [/^adl\.nav\.request$/, oneOf(/^(continue|previous)$/)]
  ];
  function valid(element, value) {
    for (var i = 0; i < RULES.length; i++) {
      var m = RULES[i][0].exec(element);
      if (m) return RULES[i][1](value, m);
    }
    return false;
  }

  /* ------------------------------------------------------------------ time formats */
  function pad(n, width) { n = String(n); while (n.length < width) n = "0" + n; return n; }
  function duration(ms) {
    var cs = Math.max(0, Math.round(ms / 10));
    var h = Math.floor(cs / 360000), m = Math.floor(cs / 6000) % 60, s = (cs % 6000) / 100;
    if (V12) {
      h = Math.min(h, 9999);
      return pad(h, 4) + ":" + pad(m, 2) + ":" + pad(s.toFixed(2), 5);
    }
    return "PT" + (h ? h + "H" : "") + (m ? m + "M" : "") + String(+s.toFixed(2)) + "S";
  }
  /* 1.2 HH:MM:SS; 2004 ISO 8601 with two decimals of seconds (Moodle refuses three), or ""
   * when the clock is outside the years Moodle accepts. */
  function timestamp(date) {
    if (!V12) {
      var year = date.getUTCFullYear();
      return year < 1970 || year > 2038 ? "" : date.toISOString().slice(0, 22) + "Z";
    }
    return pad(date.getHours(), 2) + ":" + pad(date.getMinutes(), 2) + ":" +
      pad(date.getSeconds(), 2);
  }
  function decimal(x, places) { return String(+x.toFixed(places)); }

  /* ------------------------------------------------------------------ API discovery
   * SCORM's algorithm: this window and its parents (at most 500 levels), then the opener's. */
  function scan(win, name) {
    for (var tries = 0; win && tries < 500; tries++) {
      try { if (win[name]) return win[name]; } catch (e) { return null; }
      if (!win.parent || win.parent === win) break;
      win = win.parent;
    }
    return null;
  }
  function findApi() {
    var name = V12 ? "API" : "API_1484_11";
    var api = scan(window, name);
    if (!api && window.opener) {
      try { api = scan(window.opener, name); } catch (e) { api = null; }
    }
    return api;
  }

  /* ------------------------------------------------------------------ standalone stand-in
   * The same API shape over localStorage, so the tracker has one code path. Interactions are
   * not kept: nobody reads them outside an LMS. */
  function LocalApi(key) {
    var values = {}, store = null;
    try { store = window.localStorage; } catch (e) { store = null; }
    function save() {
      var keep = {};
      Object.keys(values).forEach(function (k) {
        if (k.indexOf("cmi.interactions.") !== 0) keep[k] = values[k];
      });
      try { if (store) store.setItem(key, JSON.stringify(keep)); } catch (e) { /* full */ }
      return "true";
    }
    var api = {};
    api[FN.init] = function () {
      try { values = JSON.parse((store && store.getItem(key)) || "{}") || {}; } catch (e) {
        values = {};
      }
      values[E.entry] = values[E.exit] === "suspend" ? "resume" : "";
      return "true";
    };
    api[FN.get] = function (k) {
      var m = /^(.*)\._count$/.exec(k);
      if (m) {
        var n = 0, prefix = m[1] + ".";
        Object.keys(values).forEach(function (v) {
          if (v.indexOf(prefix) === 0) n = Math.max(n, parseInt(v.slice(prefix.length), 10) + 1);
        });
        return String(n);
      }
      if (k === E.status && !(k in values)) return "not attempted";
      return k in values ? String(values[k]) : "";
    };
    api[FN.set] = function (k, v) { values[k] = v; return "true"; };
    api[FN.commit] = save;
    api[FN.finish] = save;
    api[FN.error] = function () { return "0"; };
    return api;
  }

  /* ------------------------------------------------------------------ LMS channel
   * Values wait in `pending` until SetValue accepts them, and in `uncommitted` until Commit
   * succeeds. A value the LMS refuses as such (a data-model error: wrong type, out of range,
   * read-only...) is dropped with a console warning: sending it again could never succeed, and
   * it must not hold back the others. Any other failure keeps the value queued for a retry,
   * and the values after it are still sent. */
  var lmsApi = known ? findApi() : null;
  var standalone = !lmsApi;
  var storageKey = "scorm-builder:" + course.id + ":" + SCORM + ":" +
    (SINGLE ? "course" : (units.length ? units[0].id : "home"));
  var api = lmsApi || LocalApi(storageKey);
  var started = false, finished = false, failing = false, exitedOnPurpose = false;
  var pending = new Map(), uncommitted = new Map(), sent = new Map();
  var lastCommit = 0, commitTimer = null, retryTimer = null;
  /* What the launch lets this session write (see `start`): everything in normal mode. */
  var writes = { progress: true, credit: true };
  var WRITABLE_ALWAYS = V12 ? /^cmi\.core\.lesson_location$/
    : /^(cmi\.location|adl\.nav\.request)$/;

  function warn(text) { if (window.console) window.console.warn("scorm-builder: " + text); }
  function call(fn, args) {
    try { return String(api[fn].apply(api, args)); } catch (e) { return "false"; }
  }
  function get(element) { return started ? call(FN.get, [element]) : ""; }
  function set(element, value) {
    value = String(value);
    if (!writes.progress && !WRITABLE_ALWAYS.test(element) &&
        !(writes.browsed && element === E.status && value === "browsed")) {
      return;
    }
    if (!valid(element, value)) {
      warn("not sent, invalid for SCORM " + SCORM + ": " + element + "=" + value);
      return;
    }
    var m = /^cmi\.interactions\.(\d+)\.type$/.exec(element);
    if (m) interactionTypes[m[1]] = value;
    if (pending.get(element) === value) return;
    if (sent.get(element) === value && !pending.has(element)) return;
    pending.delete(element);
    pending.set(element, value);
  }
  /* SetValue error codes that mean "this value is wrong", not "the LMS is unwell". */
  var REFUSALS = V12 ? /^(201|40[1-5])$/ : /^(351|40[1-8])$/;
  function notify(kind) {
    document.dispatchEvent(new CustomEvent("scormbuilder:notice", { detail: kind }));
  }
  function flush() {
    if (commitTimer) { clearTimeout(commitTimer); commitTimer = null; }
    if (!started || finished) return true;
    // The session time rides along with every save, so that whoever ends the session (the
    // learner, the LMS's own exit or menu, the browser) ends it with an up-to-date time.
    if (pending.size && writes.progress) set(E.session, duration(Date.now() - startTime));
    var ok = true;
    for (var entry of Array.from(pending.entries())) {
      if (call(FN.set, entry) !== "true") {
        var code = call(FN.error, []);
        if (REFUSALS.test(code)) {
          warn("the LMS refused " + entry[0] + "=" + entry[1] + " (error " + code + ")");
          pending.delete(entry[0]);
          sent.set(entry[0], entry[1]);
        } else {
          ok = false;
        }
        continue;
      }
      pending.delete(entry[0]);
      sent.set(entry[0], entry[1]);
      uncommitted.set(entry[0], entry[1]);
    }
    if (uncommitted.size) {
      lastCommit = Date.now();
      if (call(FN.commit, [""]) === "true") {
        uncommitted.clear();
      } else {
        // The LMS may not have stored what it accepted: send it all again next time.
        uncommitted.forEach(function (v, k) { if (!pending.has(k)) pending.set(k, v); });
        uncommitted.clear();
        ok = false;
      }
    }
    if (!ok) {
      failing = true;
      notify("lms-error");
      if (!retryTimer) {
        retryTimer = setTimeout(function () { retryTimer = null; flush(); }, COMMIT_EVERY_MS);
      }
    } else if (failing) {
      failing = false;
      notify("lms-ok");
    }
    return ok;
  }
  function scheduleCommit() {
    if (commitTimer || !started || finished) return;
    var wait = Math.max(0, lastCommit + COMMIT_EVERY_MS - Date.now());
    commitTimer = setTimeout(flush, wait);
  }

  /* ------------------------------------------------------------------ learner state */
  var quizzes = [], questions = [], unitOfQuiz = {}, quizOfQuestion = {};
  units.forEach(function (u) {
    if (!u.quiz) return;
    quizzes.push(u.quiz);
    unitOfQuiz[u.quiz.id] = u;
    u.quiz.questions.forEach(function (q) {
      questions.push(q);
      quizOfQuestion[q.id] = u.quiz;
    });
  });
  var state = { visited: {}, quizzes: {}, answers: {} };
  function quizState(id) {
    return state.quizzes[id] ||
      (state.quizzes[id] = { attempts: 0, best: -1, review: false, layout: null });
  }

  /* An attempt's layout: the questions drawn (quiz `draw`: that many of the graded questions,
   * ungraded ones always) and the order of each shuffled question's options (quiz `shuffle`;
   * a sequencing question's steps always start shuffled, never in their right order). Made
   * once per attempt and saved, so that a reload shows the same questions in the same order. */
  function needsOrder(quiz, q) {
    return q.type === "sequencing" ||
      (!!quiz.shuffle && (q.type === "single-choice" || q.type === "multiple-response"));
  }
  function hasLayout(quiz) { return !!quiz.draw || quiz.questions.some(function (q) {
    return needsOrder(quiz, q);
  }); }
  function shuffled(list) {
    var a = list.slice();
    for (var i = a.length - 1; i > 0; i--) {
      var j = Math.floor(Math.random() * (i + 1)), t = a[i];
      a[i] = a[j];
      a[j] = t;
    }
    return a;
  }
  function newLayout(quiz) {
    var drawn = null, orders = {};
    if (quiz.draw) {
      var pick = {};
      shuffled(quiz.questions.filter(function (q) { return q.points > 0; }))
        .slice(0, quiz.draw).forEach(function (q) { pick[q.id] = true; });
      drawn = quiz.questions.filter(function (q) { return !(q.points > 0) || pick[q.id]; })
        .map(function (q) { return q.id; });
    }
    quiz.questions.forEach(function (q) {
      if ((drawn && drawn.indexOf(q.id) < 0) || !needsOrder(quiz, q)) return;
      var order = shuffled(q.options);
      while (q.type === "sequencing" && order.join() === q.options.join()) {
        order = shuffled(q.options);
      }
      orders[q.id] = order;
    });
    return { drawn: drawn, orders: orders };
  }
  function layoutOf(quiz) {
    var s = quizState(quiz.id);
    if (!s.layout && hasLayout(quiz)) {
      s.layout = newLayout(quiz);
      set(E.suspend, encode());
      scheduleCommit();
    }
    return s.layout;
  }
  function inDraw(q) {
    var quiz = quizOfQuestion[q.id], layout = quiz && quizState(quiz.id).layout;
    return !layout || !layout.drawn || layout.drawn.indexOf(q.id) >= 0;
  }

  /* suspend_data, format 2: "2!<units>!<quizzes>!<answers>", keyed by the author's ids so
   * that a new version of the course gets back everything that still applies:
   *   units    the visited units' ids, joined by ","
   *   quizzes  "<quiz id>:<attempts>:<best>:<review>:<shape>" joined by ","; attempts (2) and
   *            best score in hundredths (3, "zzz" when none) in base 36, review "r" while the
   *            result is shown (else "o"), shape a hash of the quiz's questions. A reader
   *            ignores fields after these, so fields can be added (e.g. the questions drawn,
   *            their order).
   *   answers  "<question id>:<length>:<shape><value>" joined by ","; length (base 36) counts
   *            shape + value, so any answer can be skipped unread; shape hashes the question's
   *            type and option, prompt and target ids, and the value is the format-1 answer
   *            (option positions, t/f, bitmap, target numbers, or the text itself).
   * An answer comes back only while its question's shape is the same; a quiz's result stays
   * on screen only while its questions are the same; unknown ids are dropped.
   * builder/suspend.py computes the longest string this can produce: keep both in step. */
  var B36 = 36, SHAPE = 3;
  function fnv(text) {
    var h = 0x811c9dc5;
    for (var i = 0; i < text.length; i++) {
      h ^= text.charCodeAt(i);
      h = Math.imul(h, 0x01000193) >>> 0;
    }
    return h;
  }
  function shapeOf(text) { return pad((fnv(text) % 46656).toString(B36), SHAPE); }
  function questionShape(q) {
    return shapeOf(q.type + ":" + (q.options || q.targets || []).join(",") + ":" +
      (q.prompts || []).join(","));
  }
  function quizShape(quiz) {
    return shapeOf(quiz.questions.map(function (q) {
      return q.id + "=" + questionShape(q);
    }).join(","));
  }
  var fingerprint1 = pad(fnv(units.map(function (u) { return u.id; }).join(",") + "|" +
    questions.map(function (q) {
      return q.id + ":" + q.type + ":" + (q.options || q.targets || []).join(",") + ":" +
        (q.prompts || []).join(",");
    }).join(";")).toString(B36), 7);
  function textLimit(q) { return q.maxLength || 1000; }
  function cleanText(q, text) {
    // One newline convention and no control characters: what is stored is what was counted.
    text = String(text || "").replace(/\r\n?/g, "\n").replace(/[\x00-\x08\x0b-\x1f\x7f]/g, "");
    return text.slice(0, textLimit(q));
  }
  function encodeAnswer(q, r) {
    if (r === undefined || r === null) return "";
    var i, s;
    switch (q.type) {
      case "single-choice":
      case "likert":
        i = q.options.indexOf(r);
        return i < 0 ? "" : i.toString(B36);
      case "sequencing":
        if (!Array.isArray(r) || r.length !== q.options.length) return "";
        var w = posWidth(q.options.length);
        return r.map(function (id) { return pad(q.options.indexOf(id).toString(B36), w); })
          .join("");
      case "true-false":
        return r === true ? "t" : r === false ? "f" : "";
      case "multiple-response":
        s = "";
        for (i = 0; i < q.options.length; i += 5) {
          var bits = 0;
          for (var b = 0; b < 5 && i + b < q.options.length; b++) {
            if (r.indexOf(q.options[i + b]) >= 0) bits |= 1 << b;
          }
          s += bits.toString(32);
        }
        return /^0*$/.test(s) ? "" : s;
      case "matching":
        var width = q.targets.length.toString(B36).length;
        s = q.prompts.map(function (p) {
          return pad((q.targets.indexOf(r[p]) + 1).toString(B36), width);
        }).join("");
        return /^0*$/.test(s) ? "" : s;
      default:
        return cleanText(q, r);
    }
  }
  function posWidth(n) { return Math.max(0, n - 1).toString(B36).length; }
  function bitmap(flags) {
    var out = "";
    for (var i = 0; i < flags.length; i += 5) {
      var bits = 0;
      for (var b = 0; b < 5 && i + b < flags.length; b++) if (flags[i + b]) bits |= 1 << b;
      out += bits.toString(32);
    }
    return out;
  }
  function readBitmap(text, n) {
    var flags = [];
    for (var i = 0; i < n; i++) {
      flags.push(!!((parseInt(text[Math.floor(i / 5)] || "0", 32) >> (i % 5)) & 1));
    }
    return flags;
  }
  /* The layout fields of a quiz entry: the draw as a base-32 bitmap over the quiz's questions
   * ("" without `draw`), then each ordered question's option positions in display order,
   * fixed-width base 36, for the questions of the attempt in the quiz's order. */
  function encodeLayout(quiz, layout) {
    if (!layout) return ["", ""];
    var draw = layout.drawn ? bitmap(quiz.questions.map(function (q) {
      return layout.drawn.indexOf(q.id) >= 0;
    })) : "";
    var orders = quiz.questions.map(function (q) {
      var order = layout.orders[q.id];
      if (!order) return "";
      var w = posWidth(q.options.length);
      return order.map(function (id) { return pad(q.options.indexOf(id).toString(B36), w); })
        .join("");
    }).join("");
    return [draw, orders];
  }
  function decodeLayout(quiz, draw, orders) {
    var drawn = null, out = {}, pos = 0, ok = true;
    if (quiz.draw) {
      var flags = readBitmap(draw, quiz.questions.length);
      drawn = quiz.questions.filter(function (q, i) { return flags[i] || !(q.points > 0); })
        .map(function (q) { return q.id; });
      var graded = drawn.filter(function (id) {
        return quiz.questions.some(function (q) { return q.id === id && q.points > 0; });
      });
      if (graded.length !== quiz.draw) return null;
    } else if (draw) {
      return null;
    }
    quiz.questions.forEach(function (q) {
      if (!ok || (drawn && drawn.indexOf(q.id) < 0) || !needsOrder(quiz, q)) return;
      var w = posWidth(q.options.length), order = [], seen = {};
      for (var i = 0; i < q.options.length; i++) {
        var id = q.options[parseInt(orders.substr(pos, w), B36)];
        pos += w;
        if (!id || seen[id]) { ok = false; return; }
        seen[id] = true;
        order.push(id);
      }
      out[q.id] = order;
    });
    return ok && pos === orders.length ? { drawn: drawn, orders: out } : null;
  }
  function encode() {
    return ["2",
      units.filter(function (u) { return state.visited[u.id]; }).map(function (u) {
        return u.id;
      }).join(","),
      quizzes.map(function (z) {
        var s = quizState(z.id);
        var fields = [z.id, pad(Math.min(s.attempts, 1295).toString(B36), 2),
          s.best < 0 ? "zzz" : pad(Math.round(s.best * 100).toString(B36), 3),
          s.review ? "r" : "o", quizShape(z)];
        if (hasLayout(z)) fields = fields.concat(encodeLayout(z, s.layout));
        return fields.join(":");
      }).join(","),
      questions.map(function (q) {
        // Only the questions of the attempt: a draw bounds the saved answers too.
        var value = inDraw(q) ? encodeAnswer(q, state.answers[q.id]) : "";
        if (!value) return "";
        var body = questionShape(q) + value;
        return q.id + ":" + body.length.toString(B36) + ":" + body;
      }).filter(Boolean).join(",")
    ].join("!");
  }
  function decode(text) {
    return text.slice(0, 2) === "2!" ? decode2(text) : decode1(text);
  }
  function decode2(text) {
    var bang1 = text.indexOf("!", 2), bang2 = text.indexOf("!", bang1 + 1);
    if (bang1 < 0 || bang2 < 0) return null;
    var out = { visited: {}, quizzes: {}, answers: {} };
    var unitIds = {}, quizById = {}, questionById = {};
    units.forEach(function (u) { unitIds[u.id] = true; });
    quizzes.forEach(function (z) { quizById[z.id] = z; });
    questions.forEach(function (q) { questionById[q.id] = q; });
    splitAll(text.slice(2, bang1), ",").forEach(function (id) {
      if (unitIds[id]) out.visited[id] = true;
    });
    splitAll(text.slice(bang1 + 1, bang2), ",").forEach(function (item) {
      var f = item.split(":"), quiz = quizById[f[0]];
      if (!quiz || f.length < 5) return;
      var same = f[4] === quizShape(quiz);
      var layout = same && hasLayout(quiz) && f.length >= 7
        ? decodeLayout(quiz, f[5], f[6]) : null;
      out.quizzes[quiz.id] = {
        attempts: parseInt(f[1], B36) || 0,
        best: f[2] === "zzz" ? -1 : parseInt(f[2], B36) / 100,
        // A result shown without the attempt's questions cannot be shown again.
        review: f[3] === "r" && same && (!!layout || !hasLayout(quiz)),
        layout: layout
      };
    });
    var rest = text.slice(bang2 + 1), pos = 0;
    while (pos < rest.length) {
      var colon = rest.indexOf(":", pos), colon2 = rest.indexOf(":", colon + 1);
      if (colon < 0 || colon2 < 0) return null;
      var id = rest.slice(pos, colon), len = parseInt(rest.slice(colon + 1, colon2), B36);
      if (!(len >= 0)) return null;
      var body = rest.substr(colon2 + 1, len), q = questionById[id];
      pos = colon2 + 1 + len;
      if (pos < rest.length && rest[pos++] !== ",") return null;
      if (q && body.length === len && body.slice(0, SHAPE) === questionShape(q)) {
        var value = decodeAnswer(q, body.slice(SHAPE));
        if (value !== undefined) out.answers[id] = value;
      }
    }
    return out;
  }
  function decode1(text) {
    var parts = text.split(".");
    if (parts[0] !== "1" || parts[1] !== fingerprint1) return null;
    var visited = parts[2], qz = parts[3];
    if (visited.length !== units.length || qz.length !== quizzes.length * 6) return null;
    var rest = parts.slice(4).join("."), pos = 0;
    var out = { visited: {}, quizzes: {}, answers: {} };
    units.forEach(function (u, i) { if (visited[i] === "1") out.visited[u.id] = true; });
    quizzes.forEach(function (z, i) {
      var s = qz.substr(i * 6, 6), best = s.substr(2, 3);
      out.quizzes[z.id] = {
        attempts: parseInt(s.substr(0, 2), B36),
        best: best === "zzz" ? -1 : parseInt(best, B36) / 100,
        review: s[5] === "r",
        layout: null
      };
    });
    for (var n = 0; n < questions.length; n++) {
      var q = questions[n], value;
      if (q.type === "fill-in" || q.type === "reflection") {
        var colon = rest.indexOf(":", pos), comma = rest.indexOf(",", pos);
        if (colon > pos && (comma < 0 || colon < comma)) {
          var len = parseInt(rest.slice(pos, colon), B36);
          value = rest.substr(colon + 1, len);
          pos = colon + 1 + len;
        } else {
          value = "";
        }
      } else {
        var end = rest.indexOf(",", pos);
        if (end < 0) end = rest.length;
        value = rest.slice(pos, end);
        pos = end;
      }
      if (n < questions.length - 1) {
        if (rest[pos] !== ",") return null;
        pos += 1;
      }
      if (value) out.answers[q.id] = decodeAnswer(q, value);
    }
    return pos === rest.length ? out : null;
  }
  function decodeAnswer(q, v) {
    switch (q.type) {
      case "single-choice": case "likert": return q.options[parseInt(v, B36)];
      case "sequencing":
        var w = posWidth(q.options.length), order = [];
        for (var i = 0; i < v.length; i += w) order.push(q.options[parseInt(v.substr(i, w), B36)]);
        var unique = order.filter(function (id, k) { return id && order.indexOf(id) === k; });
        return unique.length === q.options.length ? order : undefined;
      case "true-false": return v === "t";
      case "multiple-response":
        return q.options.filter(function (o, i) {
          return (parseInt(v[Math.floor(i / 5)] || "0", 32) >> (i % 5)) & 1;
        });
      case "matching":
        var width = q.targets.length.toString(B36).length, r = {};
        q.prompts.forEach(function (p, i) {
          var t = q.targets[parseInt(v.substr(i * width, width), B36) - 1];
          if (t) r[p] = t;
        });
        return r;
      default: return v;
    }
  }

  /* ------------------------------------------------------------------ statuses */
  var RANK12 = { "": 0, "not attempted": 0, browsed: 0, incomplete: 1, completed: 2, failed: 2,
    passed: 3 };
  var RANK_COMPLETION = { "": 0, unknown: 0, "not attempted": 0, incomplete: 1, completed: 2 };
  var RANK_SUCCESS = { "": 0, unknown: 0, failed: 1, passed: 2 };
  var lms = {}; // statuses as the LMS holds them, so that none is ever downgraded
  function raise(element, value, ranks) {
    if ((ranks[value] || 0) <= (ranks[lms[element] || ""] || 0)) return;
    lms[element] = value;
    set(element, value);
  }

  var assessment = null;
  units.forEach(function (u) {
    if (u.quiz && u.quiz.maxPoints > 0 && u.id === course.reporting.assessment) assessment = u;
  });
  function passMark(quiz) {
    if (assessment && quiz.id === assessment.quiz.id) return course.reporting.passMark;
    return quiz.passMark === null || quiz.passMark === undefined
      ? course.reporting.passMark : quiz.passMark;
  }
  function attemptsLeft(quiz) {
    return quiz.attempts ? Math.max(0, quiz.attempts - quizState(quiz.id).attempts) : Infinity;
  }
  function quizPassed(quiz) {
    var s = quizState(quiz.id);
    return s.attempts > 0 && s.best >= passMark(quiz);
  }
  function unitStatus(id) {
    var u = units.filter(function (x) { return x.id === id; })[0];
    if (!u || !state.visited[id]) return "not-started";
    if (!u.quiz || !u.quiz.maxPoints) return "completed";
    var s = quizState(u.quiz.id);
    if (!s.attempts) return "in-progress";
    return quizPassed(u.quiz) ? "passed" : "failed";
  }
  /* What this SCO reports, by the course's reporting rule (docs/course-format.md). */
  function scoStatus() {
    var viewed = units.every(function (u) { return state.visited[u.id]; });
    var rule = assessment ? course.reporting.status : "completed/incomplete";
    if (rule === "completed/incomplete") {
      return { completion: viewed ? "completed" : "incomplete", success: "", done: viewed };
    }
    var quiz = assessment.quiz, tried = quizState(quiz.id).attempts > 0;
    var passed = quizPassed(quiz);
    if (rule === "passed/incomplete") {
      return { completion: passed ? "completed" : "incomplete", success: passed ? "passed" : "",
        done: passed };
    }
    return { completion: tried ? "completed" : "incomplete",
      success: tried ? (passed ? "passed" : "failed") : "",
      done: passed || (tried && attemptsLeft(quiz) === 0) };
  }

  var objectiveIndex = {}, objectiveCount = 0, interactionCount = 0;
  function objective(id) {
    if (!(id in objectiveIndex)) {
      objectiveIndex[id] = objectiveCount++;
      set("cmi.objectives." + objectiveIndex[id] + ".id", id);
    }
    return "cmi.objectives." + objectiveIndex[id] + ".";
  }

  /* Write everything derived from the state; unchanged values are not sent again. */
  function report() {
    set(E.suspend, encode());
    var st = scoStatus();
    if (!writes.credit) st.success = "";
    if (V12) {
      raise(E.status, st.success || st.completion, RANK12);
    } else {
      raise(E.completion, st.completion, RANK_COMPLETION);
      if (st.success) raise(E.success, st.success, RANK_SUCCESS);
      var seen = units.filter(function (u) { return state.visited[u.id]; }).length;
      set(E.progress, decimal(units.length ? seen / units.length : 1, 4));
    }
    if (writes.credit && assessment && quizState(assessment.quiz.id).best >= 0) {
      var best = quizState(assessment.quiz.id).best;
      set(E.min, "0");
      set(E.max, "100");
      set(E.raw, decimal(best, 2));
      if (!V12) set(E.scaled, decimal(best / 100, 4));
    }
    if (!SINGLE) return;
    // Single SCO: every unit is an objective of its own.
    units.forEach(function (u) {
      if (!state.visited[u.id]) return;
      var base = objective(u.id), status = unitStatus(u.id);
      var success = writes.credit && (status === "passed" || status === "failed") ? status : "";
      if (V12) {
        raise(base + "status", success || "completed", RANK12);
      } else {
        raise(base + "completion_status", "completed", RANK_COMPLETION);
        if (success) raise(base + "success_status", success, RANK_SUCCESS);
      }
      if (writes.credit && u.quiz && quizState(u.quiz.id).best >= 0) {
        var score = quizState(u.quiz.id).best;
        if (V12) {
          set(base + "score.raw", decimal(score, 2));
        } else {
          set(base + "score.scaled", decimal(score / 100, 4));
        }
      }
    });
  }

  /* ------------------------------------------------------------------ interactions */
  var SYMBOLS = "abcdefghijklmnopqrstuvwxyz0123456789";
  function symbol(i) { return i < SYMBOLS.length ? SYMBOLS[i] : String(i); }
  function lmsText(text, max) {
    text = String(text).replace(/\s+/g, " ").trim();
    // "[,]" and "[.]" are SCORM 2004 delimiters and a leading "{" starts a delimiter tag.
    if (!V12) text = text.replace(/\[([,.])\]/g, "($1)").replace(/^\{/, "(");
    return text.slice(0, max);
  }
  /* SCORM 2004 response identifier of an option, prompt or target: the build maps the
   * author's ids to ones Moodle accepts (`criminal-culture` -> `criminal_culture`). */
  function rid(q, id) { return (q.lmsIds && q.lmsIds[id]) || id; }
  function formats(q, r) {
    var sep = V12 ? "," : "[,]";
    var TYPES = { "single-choice": "choice", "multiple-response": "choice",
      reflection: V12 ? "fill-in" : "long-fill-in" };
    var out = { type: TYPES[q.type] || q.type, response: "", patterns: [] };
    if (q.type === "single-choice" || q.type === "multiple-response") {
      // In the author's option order, whatever order the options were shown in.
      var picked = (r === undefined || r === null ? [] : [].concat(r)).sort(function (a, b) {
        return q.options.indexOf(a) - q.options.indexOf(b);
      });
      var choice = function (ids) {
        return ids.map(function (id) {
          return V12 ? symbol(q.options.indexOf(id)) : rid(q, id);
        }).join(sep);
      };
      out.response = choice(picked);
      out.patterns = [choice(q.correct)];
    } else if (q.type === "sequencing") {
      var steps = function (ids) {
        return ids.map(function (id) {
          return V12 ? symbol(q.options.indexOf(id)) : rid(q, id);
        }).join(sep);
      };
      out.response = Array.isArray(r) ? steps(r) : "";
      out.patterns = [steps(q.correct)];
    } else if (q.type === "likert") {
      var at = q.options.indexOf(r);
      out.response = at < 0 ? "" : V12 ? symbol(at) : rid(q, r);
    } else if (q.type === "true-false") {
      var word = function (b) { return V12 ? (b ? "t" : "f") : String(b); };
      out.response = r === true || r === false ? word(r) : "";
      out.patterns = [word(q.correct)];
    } else if (q.type === "matching") {
      var pairs = function (map) {
        return q.prompts.filter(function (p) { return map[p]; }).map(function (p) {
          return V12
            ? (q.prompts.indexOf(p) + 1).toString(B36) + "." + symbol(q.targets.indexOf(map[p]))
            : rid(q, p) + "[.]" + rid(q, map[p]);
        }).join(sep);
      };
      out.response = pairs(r || {});
      out.patterns = [pairs(q.correct)];
    } else if (q.type === "reflection") {
      // SCORM 1.2 keeps the first 255 characters; the whole text stays in suspend_data.
      out.response = lmsText(r || "", V12 ? 255 : 4000);
    } else {
      out.response = lmsText(r || "", V12 ? 255 : 250);
      out.patterns = q.correct.slice(0, 5).map(function (a) {
        a = lmsText(a, 250);
        return !V12 && q.caseSensitive ? "{case_matters=true}" + a : a;
      });
    }
    return out;
  }
  function recordInteraction(unit, q, r, correct, latencyMs, prompt) {
    var f = formats(q, r);
    var neutral = q.type === "reflection" || q.type === "likert";
    if (neutral && !f.response) return; // nothing written, nothing to read
    var base = "cmi.interactions." + interactionCount++ + ".";
    var when = timestamp(new Date());
    set(base + "id", q.id);
    set(base + "type", f.type);
    set(base + "objectives.0.id", unit.id);
    if (when) set(base + (V12 ? "time" : "timestamp"), when);
    f.patterns.forEach(function (p, i) { set(base + "correct_responses." + i + ".pattern", p); });
    set(base + "weighting", String(q.points));
    if (f.response) set(base + (V12 ? "student_response" : "learner_response"), f.response);
    set(base + "result", neutral ? "neutral"
      : correct ? "correct" : V12 ? "wrong" : "incorrect");
    set(base + "latency", duration(latencyMs));
    if (!V12 && prompt) set(base + "description", lmsText(prompt, 250));
  }

  /* ------------------------------------------------------------------ lifecycle */
  var startTime = Date.now(), resumed = false, location = "", resumeLocation = "";
  var lessonMode = "normal", credit = "credit";
  /* Launch modes: "browse" (Moodle's Preview) and "review" write nothing that counts, only
   * the location and navigation requests (and, in SCORM 1.2 browse mode, the status
   * `browsed`); "no-credit" saves
   * progress and completion but no score and no passed/failed. */
  function readMode() {
    lessonMode = get(V12 ? "cmi.core.lesson_mode" : "cmi.mode") || "normal";
    credit = get(V12 ? "cmi.core.credit" : "cmi.credit") || "credit";
    writes.progress = lessonMode === "normal";
    writes.credit = writes.progress && credit !== "no-credit";
    writes.browsed = V12 && lessonMode === "browse" &&
      (lms[E.status] === "" || lms[E.status] === "not attempted");
  }
  function start() {
    started = call(FN.init, [""]) === "true";
    if (!started) {
      // An LMS that refuses to start: keep the learner's work in this browser instead.
      standalone = true;
      api = LocalApi(storageKey);
      started = call(FN.init, [""]) === "true";
    }
    var entry = get(E.entry);
    resumed = entry === "resume";
    if (V12) {
      lms[E.status] = get(E.status);
    } else {
      lms[E.completion] = get(E.completion);
      lms[E.success] = get(E.success);
    }
    readMode();
    var saved = "";
    // SCORM 2004 answers "not initialized" (an error) for values never set: ask only on resume
    // (and in review mode, which shows what was saved).
    if (V12 || resumed || lessonMode === "review") {
      location = get(E.location);
      saved = get(E.suspend);
    }
    var restored = saved ? decode(saved) : null;
    if (restored) state = restored;
    if (location) sent.set(E.location, location);
    resumeLocation = location;
    objectiveCount = parseInt(get("cmi.objectives._count"), 10) || 0;
    for (var i = 0; i < objectiveCount; i++) {
      var id = get("cmi.objectives." + i + ".id");
      objectiveIndex[id] = i;
      var base = "cmi.objectives." + i + ".";
      if (V12) {
        lms[base + "status"] = get(base + "status");
      } else {
        lms[base + "completion_status"] = get(base + "completion_status");
        lms[base + "success_status"] = get(base + "success_status");
      }
    }
    interactionCount = parseInt(get("cmi.interactions._count"), 10) || 0;
    // First launch: "incomplete", never "not attempted" (and never lower than the LMS has).
    if (writes.browsed) set(E.status, "browsed");
    else if (V12) raise(E.status, "incomplete", RANK12);
    else raise(E.completion, "incomplete", RANK_COMPLETION);
    report();
    flush();
    if (standalone) notify("standalone");
  }

  function finish(reason) {
    if (!started || finished) return true;
    report();
    var done = scoStatus().done;
    set(E.session, duration(Date.now() - startTime));
    if (V12) set(E.exit, done ? "" : "suspend");
    else set(E.exit, done ? "normal" : "suspend");
    var ok = flush();
    // Leaving for good: terminate whatever happened. Otherwise keep the session for a retry.
    if (!ok && reason !== "pagehide") return false;
    finished = true;
    call(FN.finish, [""]);
    return true;
  }
  // A reference link opens in a new tab and hides this one for a moment: ending the session
  // then would stop tracking at every citation (SCORM cannot initialise twice), so save only.
  var leftByLinkUntil = 0;
  document.addEventListener("click", function (event) {
    var link = event.target && event.target.closest && event.target.closest("a[target=_blank]");
    if (link) leftByLinkUntil = Date.now() + 3000;
  }, true);
  // Leaving: the time and state are saved as soon as the page may go (beforeunload), and the
  // session ends once, on whichever of pagehide / visibilitychange comes first.
  window.addEventListener("beforeunload", function () {
    if (!finished) { report(); set(E.session, duration(Date.now() - startTime)); flush(); }
  });
  window.addEventListener("pagehide", function () { finish("pagehide"); });
  document.addEventListener("visibilitychange", function () {
    if (document.visibilityState === "hidden") {
      if (Date.now() < leftByLinkUntil) { report(); flush(); } else finish("hidden");
    } else if (finished && !exitedOnPurpose) notify("session-ended");
  });

  /* ------------------------------------------------------------------ facade */
  var tracker = {
    course: course,
    get standalone() { return standalone; },
    get failing() { return failing; },
    get finished() { return finished; },
    get resumed() { return resumed; },
    /** The launch mode ("normal", "browse" or "review") and credit ("credit", "no-credit"). */
    get mode() { return lessonMode; },
    get credit() { return credit; },
    /** Where the learner was when the SCO last ended ("" on a first launch). */
    get resumeLocation() { return resumeLocation; },
    suspendLimit: SUSPEND_LIMIT,
    /** The learner's saved answer to a question, or undefined. */
    answer: function (qid) { return state.answers[qid]; },
    quiz: function (id) {
      var s = quizState(id);
      return { attempts: s.attempts, best: s.best, review: s.review };
    },
    /** This attempt's layout of a quiz: {drawn: question ids or null, orders: {id: [ids]}},
     * made (and saved) on first use; null when the quiz draws and shuffles nothing. */
    layout: function (quizId) { return layoutOf(unitOfQuiz[quizId].quiz); },
    passMark: passMark,
    attemptsLeft: attemptsLeft,
    unitStatus: unitStatus,
    visitedCount: function () {
      return units.filter(function (u) { return state.visited[u.id]; }).length;
    },
    /** A unit became the page on screen. */
    pageViewed: function (pageId) {
      var isUnit = units.some(function (u) { return u.id === pageId; });
      // The home page is a location only until a unit is: a resumed SCO always has one to read.
      if (isUnit || !location) {
        set(E.location, pageId);
        location = pageId;
      }
      if (isUnit) state.visited[pageId] = true;
      report();
      scheduleCommit();
    },
    /** The learner changed an answer (not yet submitted). */
    answerChanged: function (qid, response) {
      state.answers[qid] = response;
      set(E.suspend, encode());
      scheduleCommit();
    },
    /** A quiz was submitted: results = [{question, response, correct, latencyMs, prompt}]. */
    quizSubmitted: function (quizId, results, percent) {
      var unit = unitOfQuiz[quizId], s = quizState(quizId);
      s.attempts += 1;
      if (percent !== null && percent !== undefined) {
        s.best = Math.max(s.best, percent);
        s.review = true;
      }
      results.forEach(function (r) {
        state.answers[r.question.id] = r.response;
        if (r.question.points > 0 || r.question.type === "reflection" ||
            r.question.type === "likert") {
          recordInteraction(unit, r.question, r.response, r.correct, r.latencyMs, r.prompt);
        }
      });
      report();
      flush();
    },
    /** The learner asked for another attempt. */
    quizReopened: function (quizId) {
      var s = quizState(quizId), quiz = unitOfQuiz[quizId].quiz;
      s.review = false;
      s.layout = hasLayout(quiz) ? newLayout(quiz) : null;
      set(E.suspend, encode());
      scheduleCommit();
    },
    /** Whether the LMS can move to the next or previous SCO (SCORM 2004, one SCO per unit). */
    canNavigate: function () { return !V12 && !SINGLE && !standalone; },
    /** Ask the LMS for the next or previous SCO, then end this one. */
    navigate: function (direction) {
      set(E.nav, direction);
      return finish("navigate");
    },
    /** The learner pressed Save and exit. */
    exit: function () {
      exitedOnPurpose = true;
      return finish("exit");
    }
  };
  window.scormBuilder = { tracker: tracker };
  start();
})();
