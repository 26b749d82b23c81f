/* scorm-builder tracker: the only code that speaks SCORM.
 *
 * course-ui.js calls its semantic facade (window.scormBuilder.tracker): pageViewed,
 * answerChanged, quizSubmitted, navigate, exit. The tracker keeps the learner's state, encodes
 * it into suspend_data, derives statuses and scores, checks every value against its SCORM
 * version's rules before sending it, commits (throttled) and terminates exactly once.
 * Without an LMS the same code runs against a small localStorage stand-in (standalone mode). */
(function () {
  "use strict";
  var dataEl = document.getElementById("course-data");
  if (!dataEl) return;
  var course = JSON.parse(dataEl.textContent);
  var V12 = course.scorm === "1.2";
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
   * Each value is checked before it is sent: what a strict LMS would reject never leaves. */
  function maxLen(n) { return function (v) { return v.length <= n; }; }
  function oneOf(re) { return function (v) { return re.test(v); }; }
  function range(lo, hi, decimals) {
    var re = new RegExp("^-?\\d{1,10}(\\.\\d{1," + decimals + "})?$");
    return function (v) { return re.test(v) && +v >= lo && +v <= hi; };
  }
  var ID12 = oneOf(/^[\x21-\x7e]{1,255}$/);
  var ID2004 = oneOf(/^[\w\-()+.:=@;$!*'%/#]{1,250}$/);
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
    [/^cmi\.interactions\.\d+\.type$/, oneOf(/^(true-false|choice|fill-in|matching)$/)],
    [/^cmi\.interactions\.\d+\.(student_response|correct_responses\.\d+\.pattern)$/,
      maxLen(255)],
    [/^cmi\.interactions\.\d+\.result$/, oneOf(/^(correct|wrong)$/)],
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
    [/^cmi\.interactions\.\d+\.type$/, oneOf(/^(true-false|choice|fill-in|matching)$/)],
    [/^cmi\.interactions\.\d+\.(learner_response|correct_responses\.\d+\.pattern)$/,
      maxLen(4000)],
    [/^cmi\.interactions\.\d+\.description$/, maxLen(250)],
    [/^cmi\.interactions\.\d+\.result$/, oneOf(/^(correct|incorrect)$/)],
    [/^cmi\.interactions\.\d+\.timestamp$/,
      oneOf(/^\d{4}-\d\d-\d\dT\d\d:\d\d:\d\d(\.\d{1,6}(Z|[+-]\d\d(:\d\d)?)?)?$/)],
    [/^cmi\.interactions\.\d+\.latency$/, oneOf(/^PT(\d+H)?(\d+M)?\d+(\.\d{1,2})?S$/)],
    [/^cmi\.interactions\.\d+\.weighting$/, range(0, 100, 2)],
    [/^adl\.nav\.request$/, oneOf(/^(continue|previous)$/)]
  ];
  function valid(element, value) {
    for (var i = 0; i < RULES.length; i++) {
      if (RULES[i][0].test(element)) return RULES[i][1](value);
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
  function timestamp(date) {
    if (!V12) return date.toISOString();
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
   * succeeds: when the LMS refuses either, nothing is dropped and the next flush retries. */
  var lmsApi = findApi();
  var standalone = !lmsApi;
  var storageKey = "scorm-builder:" + course.id + ":" + course.scorm + ":" +
    (SINGLE ? "course" : (units.length ? units[0].id : "home"));
  var api = lmsApi || LocalApi(storageKey);
  var started = false, finished = false, failing = false, exitedOnPurpose = false;
  var pending = new Map(), uncommitted = new Map(), sent = new Map();
  var lastCommit = 0, commitTimer = null, retryTimer = null;

  function call(fn, args) {
    try { return String(api[fn].apply(api, args)); } catch (e) { return "false"; }
  }
  function get(element) { return started ? call(FN.get, [element]) : ""; }
  function set(element, value) {
    value = String(value);
    if (!valid(element, value)) {
      if (window.console) window.console.warn("scorm-builder: refused " + element + "=" + value);
      return;
    }
    if (pending.get(element) === value) return;
    if (sent.get(element) === value && !pending.has(element)) return;
    pending.delete(element);
    pending.set(element, value);
  }
  function notify(kind) {
    document.dispatchEvent(new CustomEvent("scormbuilder:notice", { detail: kind }));
  }
  function flush() {
    if (commitTimer) { clearTimeout(commitTimer); commitTimer = null; }
    if (!started || finished) return true;
    var ok = true;
    for (var entry of Array.from(pending.entries())) {
      if (call(FN.set, entry) !== "true") { ok = false; break; }
      pending.delete(entry[0]);
      sent.set(entry[0], entry[1]);
      uncommitted.set(entry[0], entry[1]);
    }
    if (ok && uncommitted.size) {
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
  var quizzes = [], questions = [], unitOfQuiz = {};
  units.forEach(function (u) {
    if (!u.quiz) return;
    quizzes.push(u.quiz);
    unitOfQuiz[u.quiz.id] = u;
    u.quiz.questions.forEach(function (q) { questions.push(q); });
  });
  var state = { visited: {}, quizzes: {}, answers: {} };
  function quizState(id) {
    return state.quizzes[id] || (state.quizzes[id] = { attempts: 0, best: -1, review: false });
  }

  /* suspend_data, format 1: "1.<fingerprint>.<visited>.<quizzes>.<answers>".
   * Positions stand for ids (compact); the fingerprint of the course's structure makes a new
   * version of the course ignore answers saved against an old one. builder/suspend.py
   * computes the longest string this can produce: keep both in step. */
  var B36 = 36, FORMAT = "1";
  function fnv(text) {
    var h = 0x811c9dc5;
    for (var i = 0; i < text.length; i++) {
      h ^= text.charCodeAt(i);
      h = Math.imul(h, 0x01000193) >>> 0;
    }
    return pad(h.toString(B36), 7);
  }
  var fingerprint = fnv(units.map(function (u) { return u.id; }).join(",") + "|" +
    questions.map(function (q) {
      return q.id + ":" + q.type + ":" + (q.options || q.targets || []).join(",") + ":" +
        (q.prompts || []).join(",");
    }).join(";"));
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
        i = q.options.indexOf(r);
        return i < 0 ? "" : i.toString(B36);
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
        s = cleanText(q, r);
        return s ? s.length.toString(B36) + ":" + s : "";
    }
  }
  function encode() {
    return [
      FORMAT, fingerprint,
      units.map(function (u) { return state.visited[u.id] ? "1" : "0"; }).join(""),
      quizzes.map(function (z) {
        var s = quizState(z.id);
        return pad(Math.min(s.attempts, 1295).toString(B36), 2) +
          (s.best < 0 ? "zzz" : pad(Math.round(s.best * 100).toString(B36), 3)) +
          (s.review ? "r" : "o");
      }).join(""),
      questions.map(function (q) { return encodeAnswer(q, state.answers[q.id]); }).join(",")
    ].join(".");
  }
  function decode(text) {
    var parts = text.split(".");
    if (parts[0] !== FORMAT || parts[1] !== fingerprint) return null;
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
        review: s[5] === "r"
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
      case "single-choice": return q.options[parseInt(v, B36)];
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
    if (V12) {
      raise(E.status, st.success || st.completion, RANK12);
    } else {
      raise(E.completion, st.completion, RANK_COMPLETION);
      if (st.success) raise(E.success, st.success, RANK_SUCCESS);
      var seen = units.filter(function (u) { return state.visited[u.id]; }).length;
      set(E.progress, decimal(units.length ? seen / units.length : 1, 4));
    }
    if (assessment && quizState(assessment.quiz.id).best >= 0) {
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
      var success = status === "passed" || status === "failed" ? status : "";
      if (V12) {
        raise(base + "status", success || "completed", RANK12);
      } else {
        raise(base + "completion_status", "completed", RANK_COMPLETION);
        if (success) raise(base + "success_status", success, RANK_SUCCESS);
      }
      if (u.quiz && quizState(u.quiz.id).best >= 0) {
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
  function formats(q, r) {
    var sep = V12 ? "," : "[,]";
    var out = { type: q.type === "single-choice" || q.type === "multiple-response"
      ? "choice" : q.type, response: "", patterns: [] };
    if (q.type === "single-choice" || q.type === "multiple-response") {
      var picked = r === undefined || r === null ? [] : [].concat(r);
      var choice = function (ids) {
        return ids.map(function (id) {
          return V12 ? symbol(q.options.indexOf(id)) : id;
        }).join(sep);
      };
      out.response = choice(picked);
      out.patterns = [choice(q.correct)];
    } else if (q.type === "true-false") {
      var word = function (b) { return V12 ? (b ? "t" : "f") : String(b); };
      out.response = r === true || r === false ? word(r) : "";
      out.patterns = [word(q.correct)];
    } else if (q.type === "matching") {
      var pairs = function (map) {
        return q.prompts.filter(function (p) { return map[p]; }).map(function (p) {
          return V12
            ? (q.prompts.indexOf(p) + 1).toString(B36) + "." + symbol(q.targets.indexOf(map[p]))
            : p + "[.]" + map[p];
        }).join(sep);
      };
      out.response = pairs(r || {});
      out.patterns = [pairs(q.correct)];
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
    var base = "cmi.interactions." + interactionCount++ + ".";
    var f = formats(q, r);
    set(base + "id", q.id);
    set(base + "type", f.type);
    set(base + "objectives.0.id", unit.id);
    set(base + (V12 ? "time" : "timestamp"), timestamp(new Date()));
    f.patterns.forEach(function (p, i) { set(base + "correct_responses." + i + ".pattern", p); });
    set(base + "weighting", String(q.points));
    if (f.response) set(base + (V12 ? "student_response" : "learner_response"), f.response);
    set(base + "result", correct ? "correct" : V12 ? "wrong" : "incorrect");
    set(base + "latency", duration(latencyMs));
    if (!V12 && prompt) set(base + "description", lmsText(prompt, 250));
  }

  /* ------------------------------------------------------------------ lifecycle */
  var startTime = Date.now(), resumed = false, location = "", resumeLocation = "";
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
    var saved = "";
    // SCORM 2004 answers "not initialized" (an error) for values never set: ask only on resume.
    if (V12 || resumed) {
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
    if (V12) raise(E.status, "incomplete", RANK12);
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
    /** Where the learner was when the SCO last ended ("" on a first launch). */
    get resumeLocation() { return resumeLocation; },
    suspendLimit: SUSPEND_LIMIT,
    /** The learner's saved answer to a question, or undefined. */
    answer: function (qid) { return state.answers[qid]; },
    quiz: function (id) {
      var s = quizState(id);
      return { attempts: s.attempts, best: s.best, review: s.review };
    },
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
        if (r.question.points > 0) {
          recordInteraction(unit, r.question, r.response, r.correct, r.latencyMs, r.prompt);
        }
      });
      report();
      flush();
    },
    /** The learner asked for another attempt. */
    quizReopened: function (quizId) {
      quizState(quizId).review = false;
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
