/* scorm-builder preview: a small LMS simulator for SCORM 1.2 and SCORM 2004.
 *
 * It exposes window.API (1.2) or window.API_1484_11 (2004) to the course in the iframe, checks
 * every value against the data model the way an LMS does (Moodle's rules where they are
 * stricter), logs each call, and keeps the learner's record in localStorage so that a relaunch
 * shows what a real LMS would give back. Nothing here is sent anywhere.
 */
(function () {
  "use strict";

  const $ = (id) => document.getElementById(id);
  const frame = $("content");
  const logEl = $("log");
  const cmiBody = $("cmi").querySelector("tbody");
  const MAX_LOG = 2000;

  let build = null;          // last /__build answer
  let launchedGeneration = 0;
  let version = localStorage.getItem("sim:version") || "1.2";
  let scoIndex = 0;
  let session = null;        // the current launch
  let launchStart = 0;
  let changed = new Set();

  /* ------------------------------------------------------------------ value checks */

  const DECIMAL = /^-?\d+(\.\d+)?$/;
  const vocab = (words) => (v) => (words.includes(v) ? 0 : "type");
  const text = (max) => (v) => (v.length <= max ? 0 : "range");
  const real = (min, max, decimals) => (v) => {
    if (!DECIMAL.test(v)) return "type";
    if (decimals !== undefined && (v.split(".")[1] || "").length > decimals) return "type";
    const n = Number(v);
    return (min !== null && n < min) || (max !== null && n > max) ? "range" : 0;
  };
  const pattern = (re) => (v) => (re.test(v) ? 0 : "type");
  const TIMESPAN12 = pattern(/^\d{2,4}:\d{2}:\d{2}(\.\d{1,2})?$/);
  const TIME12 = pattern(/^\d{2}:\d{2}:\d{2}(\.\d{1,2})?$/);
  const IDENT12 = pattern(/^[\x21-\x7e]{1,255}$/);
  const DURATION = pattern(/^P(?=\w)(\d+Y)?(\d+M)?(\d+D)?(T(?=\d)(\d+H)?(\d+M)?(\d+(\.\d{1,2})?S)?)?$/);
  const TIMESTAMP = pattern(
    /^\d{4}(-\d{2}(-\d{2}(T\d{2}(:\d{2}(:\d{2}(\.\d{1,2})?)?)?(Z|[+-]\d{2}(:\d{2})?)?)?)?)?$/);
  const URI = (v) => (v.length > 0 && v.length <= 4000 && !/\s/.test(v) ? 0 : "type");
  const RESULT12 = (v) => (["correct", "wrong", "unanticipated", "neutral"].includes(v)
    || DECIMAL.test(v) ? 0 : "type");
  const RESULT2004 = (v) => (["correct", "incorrect", "unanticipated", "neutral"].includes(v)
    || DECIMAL.test(v) ? 0 : "type");
  const NAV = (v) => (/^(\{target=[^}\s]+\})?(choice|jump)$/.test(v) || ["continue", "previous",
    "exit", "exitAll", "abandon", "abandonAll", "suspendAll", "_none_"].includes(v) ? 0 : "type");

  /* Each data model: [pattern, access, check, children] ; "n" stands for an array index. */
  const MODEL12 = [
    ["cmi._version", "r"],
    ["cmi.core._children", "r", null, "student_id,student_name,lesson_location,credit,lesson_status,entry,score,total_time,lesson_mode,exit,session_time"],
    ["cmi.core.student_id", "r"], ["cmi.core.student_name", "r"],
    ["cmi.core.lesson_location", "rw", text(255)],
    ["cmi.core.credit", "r"],
    // A SCO may not set "not attempted" (Moodle and the 1.2 RTE agree).
    ["cmi.core.lesson_status", "rw", vocab(["passed", "completed", "failed", "incomplete", "browsed"])],
    ["cmi.core.entry", "r"],
    ["cmi.core.score._children", "r", null, "raw,min,max"],
    ["cmi.core.score.raw", "rw", real(0, 100, 2)],
    ["cmi.core.score.min", "rw", real(0, 100, 2)],
    ["cmi.core.score.max", "rw", real(0, 100, 2)],
    ["cmi.core.total_time", "r"], ["cmi.core.lesson_mode", "r"],
    ["cmi.core.exit", "w", vocab(["time-out", "suspend", "logout", ""])],
    ["cmi.core.session_time", "w", TIMESPAN12],
    ["cmi.suspend_data", "rw", text(4096)],
    ["cmi.launch_data", "r"],
    ["cmi.comments", "rw", text(4096)],
    ["cmi.comments_from_lms", "r"],
    ["cmi.objectives._children", "r", null, "id,score,status"],
    ["cmi.objectives._count", "r"],
    ["cmi.objectives.n.id", "rw", IDENT12],
    ["cmi.objectives.n.score._children", "r", null, "raw,min,max"],
    ["cmi.objectives.n.score.raw", "rw", real(0, 100, 2)],
    ["cmi.objectives.n.score.min", "rw", real(0, 100, 2)],
    ["cmi.objectives.n.score.max", "rw", real(0, 100, 2)],
    ["cmi.objectives.n.status", "rw", vocab(["passed", "completed", "failed", "incomplete", "browsed", "not attempted"])],
    ["cmi.student_data._children", "r", null, "mastery_score,max_time_allowed,time_limit_action"],
    ["cmi.student_data.mastery_score", "r"], ["cmi.student_data.max_time_allowed", "r"],
    ["cmi.student_data.time_limit_action", "r"],
    ["cmi.student_preference._children", "r", null, "audio,language,speed,text"],
    ["cmi.student_preference.audio", "rw", real(-1, 100)],
    ["cmi.student_preference.language", "rw", text(255)],
    ["cmi.student_preference.speed", "rw", real(-100, 100)],
    ["cmi.student_preference.text", "rw", real(-1, 1)],
    ["cmi.interactions._children", "r", null, "id,objectives,time,type,correct_responses,weighting,student_response,result,latency"],
    ["cmi.interactions._count", "r"],
    ["cmi.interactions.n.id", "w", IDENT12],
    ["cmi.interactions.n.objectives._count", "r"],
    ["cmi.interactions.n.objectives.n.id", "w", IDENT12],
    ["cmi.interactions.n.time", "w", TIME12],
    ["cmi.interactions.n.type", "w", vocab(["true-false", "choice", "fill-in", "matching", "performance", "sequencing", "likert", "numeric"])],
    ["cmi.interactions.n.correct_responses._count", "r"],
    ["cmi.interactions.n.correct_responses.n.pattern", "w", text(255)],
    ["cmi.interactions.n.weighting", "w", real(null, null)],
    ["cmi.interactions.n.student_response", "w", text(255)],
    ["cmi.interactions.n.result", "w", RESULT12],
    ["cmi.interactions.n.latency", "w", TIMESPAN12],
  ];
  const MODEL2004 = [
    ["cmi._version", "r"],
    ["cmi.comments_from_learner._children", "r", null, "comment,location,timestamp"],
    ["cmi.comments_from_learner._count", "r"],
    ["cmi.comments_from_learner.n.comment", "rw", text(4000)],
    ["cmi.comments_from_learner.n.location", "rw", text(250)],
    ["cmi.comments_from_learner.n.timestamp", "rw", TIMESTAMP],
    ["cmi.comments_from_lms._children", "r", null, "comment,location,timestamp"],
    ["cmi.comments_from_lms._count", "r"],
    ["cmi.completion_status", "rw", vocab(["completed", "incomplete", "not attempted", "unknown"])],
    ["cmi.completion_threshold", "r"], ["cmi.credit", "r"], ["cmi.entry", "r"],
    ["cmi.exit", "w", vocab(["time-out", "suspend", "logout", "normal", ""])],
    ["cmi.interactions._children", "r", null, "id,type,objectives,timestamp,correct_responses,weighting,learner_response,result,latency,description"],
    ["cmi.interactions._count", "r"],
    ["cmi.interactions.n.id", "rw", URI],
    ["cmi.interactions.n.type", "rw", vocab(["true-false", "choice", "fill-in", "long-fill-in", "matching", "performance", "sequencing", "likert", "numeric", "other"]), null, "id"],
    ["cmi.interactions.n.objectives._count", "r"],
    ["cmi.interactions.n.objectives.n.id", "rw", URI, null, "id"],
    ["cmi.interactions.n.timestamp", "rw", TIMESTAMP, null, "id"],
    ["cmi.interactions.n.correct_responses._count", "r"],
    ["cmi.interactions.n.correct_responses.n.pattern", "rw", text(4000), null, "type"],
    ["cmi.interactions.n.weighting", "rw", real(null, null), null, "id"],
    ["cmi.interactions.n.learner_response", "rw", text(4000), null, "type"],
    ["cmi.interactions.n.result", "rw", RESULT2004, null, "id"],
    ["cmi.interactions.n.latency", "rw", DURATION, null, "id"],
    ["cmi.interactions.n.description", "rw", text(250), null, "id"],
    ["cmi.launch_data", "r"], ["cmi.learner_id", "r"], ["cmi.learner_name", "r"],
    ["cmi.learner_preference._children", "r", null, "audio_level,language,delivery_speed,audio_captioning"],
    ["cmi.learner_preference.audio_level", "rw", real(0, null)],
    ["cmi.learner_preference.language", "rw", text(250)],
    ["cmi.learner_preference.delivery_speed", "rw", real(0, null)],
    ["cmi.learner_preference.audio_captioning", "rw", vocab(["-1", "0", "1"])],
    ["cmi.location", "rw", text(1000)],
    ["cmi.max_time_allowed", "r"], ["cmi.mode", "r"],
    ["cmi.objectives._children", "r", null, "id,score,success_status,completion_status,progress_measure,description"],
    ["cmi.objectives._count", "r"],
    ["cmi.objectives.n.id", "rw", URI],
    ["cmi.objectives.n.score._children", "r", null, "scaled,raw,min,max"],
    ["cmi.objectives.n.score.scaled", "rw", real(-1, 1), null, "id"],
    ["cmi.objectives.n.score.raw", "rw", real(null, null), null, "id"],
    ["cmi.objectives.n.score.min", "rw", real(null, null), null, "id"],
    ["cmi.objectives.n.score.max", "rw", real(null, null), null, "id"],
    ["cmi.objectives.n.success_status", "rw", vocab(["passed", "failed", "unknown"]), null, "id"],
    ["cmi.objectives.n.completion_status", "rw", vocab(["completed", "incomplete", "not attempted", "unknown"]), null, "id"],
    ["cmi.objectives.n.progress_measure", "rw", real(0, 1), null, "id"],
    ["cmi.objectives.n.description", "rw", text(250), null, "id"],
    ["cmi.progress_measure", "rw", real(0, 1)],
    ["cmi.scaled_passing_score", "r"],
    ["cmi.score._children", "r", null, "scaled,raw,min,max"],
    ["cmi.score.scaled", "rw", real(-1, 1)],
    ["cmi.score.raw", "rw", real(null, null)],
    ["cmi.score.min", "rw", real(null, null)],
    ["cmi.score.max", "rw", real(null, null)],
    ["cmi.session_time", "w", DURATION],
    ["cmi.success_status", "rw", vocab(["passed", "failed", "unknown"])],
    ["cmi.suspend_data", "rw", text(64000)],
    ["cmi.time_limit_action", "r"], ["cmi.total_time", "r"],
    ["adl.nav.request", "rw", NAV],
    ["adl.nav.request_valid.continue", "r"], ["adl.nav.request_valid.previous", "r"],
  ];

  const ERRORS12 = {
    0: "No error", 101: "General exception", 201: "Invalid argument error",
    202: "Element cannot have children", 203: "Element not an array - cannot have count",
    301: "Not initialized", 401: "Not implemented error",
    402: "Invalid set value, element is a keyword", 403: "Element is read only",
    404: "Element is write only", 405: "Incorrect data type",
  };
  const ERRORS2004 = {
    0: "No error", 101: "General exception", 102: "General initialization failure",
    103: "Already initialized", 104: "Content instance terminated",
    111: "General termination failure", 112: "Termination before initialization",
    113: "Termination after termination", 122: "Retrieve data before initialization",
    123: "Retrieve data after termination", 132: "Store data before initialization",
    133: "Store data after termination", 142: "Commit before initialization",
    143: "Commit after termination", 201: "General argument error",
    301: "General get failure", 351: "General set failure", 391: "General commit failure",
    401: "Undefined data model element", 402: "Unimplemented data model element",
    403: "Data model element value not initialized", 404: "Data model element is read only",
    405: "Data model element is write only", 406: "Data model element type mismatch",
    407: "Data model element value out of range", 408: "Data model dependency not established",
  };

  /* ------------------------------------------------------------------ the learner's record */

  function sco() {
    const target = build && build.targets[version === "1.2" ? "scorm12" : "scorm2004"];
    return target ? target.scos[Math.min(scoIndex, target.scos.length - 1)] : null;
  }
  function recordKey() {
    const s = sco();
    return "sim:" + (build ? build.course.id : "") + ":" + version + ":" + (s ? s.id : "");
  }
  function loadRecord() {
    try {
      const r = JSON.parse(localStorage.getItem(recordKey()));
      if (r && r.data) return r;
    } catch (e) { /* a damaged record starts again */ }
    return { data: {}, launches: 0, suspended: false, totalSeconds: 0 };
  }
  function saveRecord(st) { localStorage.setItem(st.key, JSON.stringify(st.record)); }

  /* ------------------------------------------------------------------ the API */

  function lookup(model, element) {
    const generic = element.replace(/\.\d+(?=\.|$)/g, ".n");
    for (const def of model) if (def[0] === generic) return def;
    return null;
  }

  function countOf(data, prefix) {
    let n = 0;
    const re = new RegExp("^" + prefix.replace(/\./g, "\\.") + "\\.(\\d+)\\.");
    for (const k of Object.keys(data)) {
      const m = re.exec(k);
      if (m) n = Math.max(n, Number(m[1]) + 1);
    }
    return n;
  }

  function newSession(is2004) {
    const record = loadRecord();
    const s = sco() || {};
    const data = record.data;
    // The key is fixed at launch: a version or SCO switch must not file this record elsewhere.
    const state = { is2004, record, data, key: recordKey(), mastery: s.masteryScore || "", started: false, finished: false, error: 0, diag: "" };
    const fixed = is2004 ? {
      "cmi._version": "1.0", "cmi.learner_id": "preview-learner", "cmi.learner_name": "Learner, Preview",
      "cmi.credit": "credit", "cmi.mode": "normal", "cmi.launch_data": "",
      "cmi.entry": record.suspended ? "resume" : "ab-initio",
      "cmi.total_time": secondsToDuration(record.totalSeconds),
      "adl.nav.request_valid.continue": "true", "adl.nav.request_valid.previous": "true",
    } : {
      "cmi._version": "3.4", "cmi.core.student_id": "preview-learner",
      "cmi.core.student_name": "Learner, Preview", "cmi.core.credit": "credit",
      "cmi.core.lesson_mode": "normal", "cmi.launch_data": "", "cmi.comments_from_lms": "",
      "cmi.core.entry": record.suspended ? "resume" : (record.launches ? "" : "ab-initio"),
      "cmi.core.total_time": secondsToTimespan(record.totalSeconds),
      "cmi.student_data.mastery_score": s.masteryScore || "",
    };
    state.fixed = fixed;
    if (is2004) {
      if (!("cmi.completion_status" in data)) data["cmi.completion_status"] = "unknown";
      if (!("cmi.success_status" in data)) data["cmi.success_status"] = "unknown";
    } else if (!("cmi.core.lesson_status" in data)) {
      data["cmi.core.lesson_status"] = "not attempted";
    }
    return state;
  }

  function fail(st, code, diag) { st.error = code; st.diag = diag || ""; return code; }

  function getValue(st, element) {
    const is2004 = st.is2004;
    const model = is2004 ? MODEL2004 : MODEL12;
    st.error = 0; st.diag = "";
    if (!st.started) return fail(st, is2004 ? (st.finished ? 123 : 122) : 301), "";
    if (st.finished) return fail(st, is2004 ? 123 : 301), "";
    if (element === "") return fail(st, is2004 ? 301 : 201), "";
    const m = /^(.*)\._(count|children)$/.exec(element);
    const def = lookup(model, element);
    if (!def) {
      if (m && m[2] === "count") return fail(st, is2004 ? 301 : 203, "not an array"), "";
      if (m && m[2] === "children") return fail(st, is2004 ? 301 : 202, "no children"), "";
      if (is2004 && element.startsWith("adl.nav.request_valid.choice")) return "unknown";
      return fail(st, is2004 ? 401 : 201, "undefined element"), "";
    }
    if (def[3]) return def[3];
    if (m && m[2] === "count") return String(countOf(st.data, m[1]));
    if (def[1] === "w") return fail(st, is2004 ? 405 : 404), "";
    if (element in st.fixed) return st.fixed[element];
    if (element in st.data) return st.data[element];
    const first = /^(.*?)\.(\d+)\./.exec(element);
    if (first && Number(first[2]) >= countOf(st.data, first[1])) {
      return fail(st, is2004 ? 301 : 201, "index out of range"), "";
    }
    if (is2004) return fail(st, 403, "not initialized"), "";
    return "";
  }

  function setValue(st, element, value) {
    const is2004 = st.is2004;
    const model = is2004 ? MODEL2004 : MODEL12;
    st.error = 0; st.diag = "";
    if (!st.started) return fail(st, is2004 ? (st.finished ? 133 : 132) : 301);
    if (st.finished) return fail(st, is2004 ? 133 : 301);
    if (element === "") return fail(st, is2004 ? 351 : 201);
    if (/\._(count|children|version)$/.test(element)) return fail(st, is2004 ? 404 : 402);
    const def = lookup(model, element);
    if (!def) return fail(st, is2004 ? 401 : 201, "undefined element");
    if (def[1] === "r") return fail(st, is2004 ? 404 : 403);
    const v = String(value);
    // Arrays grow one at a time: index n must be at most the current count.
    const parts = element.split(".");
    for (let i = 0; i < parts.length; i++) {
      if (!/^\d+$/.test(parts[i])) continue;
      const prefix = parts.slice(0, i).join(".");
      if (Number(parts[i]) > countOf(st.data, prefix)) {
        return fail(st, is2004 ? 351 : 201, "array index out of order");
      }
    }
    if (is2004 && def[4]) {
      // e.g. cmi.interactions.3.type needs cmi.interactions.3.id first.
      const owner = /^(.*?\.\d+)\./.exec(element);
      if (owner && !((owner[1] + "." + def[4]) in st.data)) {
        return fail(st, 408, def[4] + " must be set first");
      }
    }
    const problem = def[2] ? def[2](v) : 0;
    if (problem === "type") return fail(st, is2004 ? 406 : 405, JSON.stringify(v));
    if (problem === "range") return fail(st, is2004 ? 407 : 405, "out of range: " + v.length + " characters or value");
    st.data[element] = v;
    changed.add(element);
    return 0;
  }

  function secondsToTimespan(total) {
    const h = Math.floor(total / 3600), m = Math.floor((total % 3600) / 60), s = total % 60;
    const pad = (n, w) => String(n).padStart(w, "0");
    return pad(h, 4) + ":" + pad(m, 2) + ":" + pad(s.toFixed(2), 5);
  }
  function secondsToDuration(total) { return "PT" + Math.round(total * 100) / 100 + "S"; }
  function timespanSeconds(v) {
    const m = /^(\d+):(\d+):(\d+(\.\d+)?)$/.exec(v || "");
    return m ? Number(m[1]) * 3600 + Number(m[2]) * 60 + Number(m[3]) : 0;
  }
  function durationSeconds(v) {
    const m = /^P(?:(\d+)Y)?(?:(\d+)M)?(?:(\d+)D)?(?:T(?:(\d+)H)?(?:(\d+)M)?(?:(\d+(?:\.\d+)?)S)?)?$/.exec(v || "");
    if (!m) return 0;
    const n = (i) => Number(m[i] || 0);
    return n(1) * 31536000 + n(2) * 2592000 + n(3) * 86400 + n(4) * 3600 + n(5) * 60 + n(6);
  }

  /** What the LMS does when the SCO finishes: Moodle's rules, then the record is stored. */
  function finishSession(st) {
    const d = st.data, r = st.record;
    if (st.is2004) {
      r.totalSeconds += durationSeconds(d["cmi.session_time"]);
      const exit = d["cmi.exit"] || "";
      r.suspended = exit === "suspend";
      delete d["cmi.session_time"]; delete d["cmi.exit"]; delete d["adl.nav.request"];
      if (!r.suspended) {
        lmsNote("cmi.exit was " + JSON.stringify(exit) + ", not \"suspend\": the next launch starts a new attempt (ab-initio) with no saved data");
        r.data = {}; r.totalSeconds = 0;
      }
    } else {
      r.totalSeconds += timespanSeconds(d["cmi.core.session_time"]);
      const exit = d["cmi.core.exit"] || "";
      r.suspended = exit === "suspend";
      if (d["cmi.core.lesson_status"] === "not attempted") {
        d["cmi.core.lesson_status"] = "completed";
        lmsNote("status was \"not attempted\" at LMSFinish: Moodle records \"completed\"");
      }
      const mastery = st.mastery;
      const raw = d["cmi.core.score.raw"];
      if (mastery && raw !== undefined && raw !== "") {
        const status = Number(raw) >= Number(mastery) ? "passed" : "failed";
        if (d["cmi.core.lesson_status"] !== status) {
          lmsNote("mastery score " + mastery + " and raw score " + raw + ": Moodle records \"" + status + "\"");
        }
        d["cmi.core.lesson_status"] = status;
      }
      delete d["cmi.core.session_time"]; delete d["cmi.core.exit"];
    }
    r.launches += 1;
    saveRecord(st);
  }

  function makeApi(is2004) {
    const call = (name, args, fn) => {
      const st = session;
      const result = fn(st);
      log(name, args, result, st ? st.error : 0, st ? st.diag : "", is2004);
      renderCmi();
      return result;
    };
    const init = (arg) => call(is2004 ? "Initialize" : "LMSInitialize", [arg], (st) => {
      st.error = 0;
      if (arg !== "") return fail(st, 201), "false";
      if (is2004 && st.finished) return fail(st, 104), "false";
      if (st.started) return fail(st, is2004 ? 103 : 101, "already initialized"), "false";
      st.started = true;
      return "true";
    });
    const finish = (arg) => call(is2004 ? "Terminate" : "LMSFinish", [arg], (st) => {
      st.error = 0;
      if (arg !== "") return fail(st, 201), "false";
      if (!st.started) return fail(st, is2004 ? (st.finished ? 113 : 112) : 301), "false";
      st.started = false; st.finished = true;
      finishSession(st);
      return "true";
    });
    const get = (el) => call(is2004 ? "GetValue" : "LMSGetValue", [el], (st) => String(getValue(st, String(el))));
    const set = (el, v) => call(is2004 ? "SetValue" : "LMSSetValue", [el, v], (st) => (setValue(st, String(el), v) === 0 ? "true" : "false"));
    const commit = (arg) => call(is2004 ? "Commit" : "LMSCommit", [arg], (st) => {
      st.error = 0;
      if (arg !== "") return fail(st, 201), "false";
      if (!st.started) return fail(st, is2004 ? (st.finished ? 143 : 142) : 301), "false";
      saveRecord(st);
      return "true";
    });
    const table = is2004 ? ERRORS2004 : ERRORS12;
    const lastError = () => String(session ? session.error : 0);
    const errorString = (code) => table[Number(code)] || "";
    const diagnostic = () => (session ? session.diag : "");
    return is2004 ? {
      Initialize: init, Terminate: finish, GetValue: get, SetValue: set, Commit: commit,
      GetLastError: lastError, GetErrorString: errorString, GetDiagnostic: diagnostic,
    } : {
      LMSInitialize: init, LMSFinish: finish, LMSGetValue: get, LMSSetValue: set, LMSCommit: commit,
      LMSGetLastError: lastError, LMSGetErrorString: errorString, LMSGetDiagnostic: diagnostic,
    };
  }

  /* ------------------------------------------------------------------ display */

  function stamp() { return ((performance.now() - launchStart) / 1000).toFixed(2) + "s"; }

  function addLog(li) {
    logEl.appendChild(li);
    while (logEl.children.length > MAX_LOG) logEl.removeChild(logEl.firstChild);
    li.scrollIntoView({ block: "nearest" });
  }
  function log(name, args, result, error, diag, is2004) {
    const li = document.createElement("li");
    li.className = "call" + (error ? " error" : "");
    const t = document.createElement("span"); t.className = "t"; t.textContent = stamp() + " ";
    li.appendChild(t);
    let line = name + "(" + args.map((a) => JSON.stringify(a === undefined ? "" : String(a))).join(", ") + ") → " + JSON.stringify(result);
    if (error) {
      const table = is2004 ? ERRORS2004 : ERRORS12;
      line += "  error " + error + " " + (table[error] || "") + (diag ? ": " + diag : "");
    }
    li.appendChild(document.createTextNode(line));
    addLog(li);
  }
  function lmsNote(message) {
    const li = document.createElement("li");
    li.className = "lms";
    li.textContent = "LMS: " + message;
    addLog(li);
  }

  function renderCmi() {
    const st = session;
    cmiBody.textContent = "";
    if (!st) return;
    const rows = Object.assign({}, st.fixed, st.data);
    const limit = st.is2004 ? 64000 : 4096;
    for (const k of Object.keys(rows).sort()) {
      const tr = document.createElement("tr");
      if (changed.has(k)) tr.className = "changed";
      if (k === "cmi.suspend_data" && rows[k].length > limit) tr.className = "over";
      const a = document.createElement("td"), b = document.createElement("td");
      a.textContent = k;
      b.textContent = k === "cmi.suspend_data" ? rows[k].length + " / " + limit + " chars: " + rows[k] : rows[k];
      tr.appendChild(a); tr.appendChild(b);
      cmiBody.appendChild(tr);
    }
    $("record-note").textContent = "(launch " + (st.record.launches + 1) + (st.finished ? ", finished" : st.started ? ", running" : "") + ")";
  }

  /* ------------------------------------------------------------------ launching */

  function installApi() {
    window.API = version === "1.2" ? makeApi(false) : undefined;
    window.API_1484_11 = version === "2004" ? makeApi(true) : undefined;
  }

  function closeContent(then) {
    // Unloading the page lets the course save and terminate, as when a learner leaves the LMS.
    const done = () => { frame.removeEventListener("load", done); if (then) then(); };
    if (frame.getAttribute("src") === "about:blank") { done(); return; }
    frame.addEventListener("load", done);
    frame.setAttribute("src", "about:blank");
  }

  /** Where the learner is in the content: the page, its #unit and the scroll offsets. */
  function placeInContent() {
    try {
      const w = frame.contentWindow;
      if (!w || frame.getAttribute("src") === "about:blank") return null;
      return { path: w.location.pathname, hash: w.location.hash, x: w.scrollX, y: w.scrollY };
    } catch (e) {
      return null;  // not our page (it navigated elsewhere): start from the launch page
    }
  }

  /** Scroll back to `place` once the relaunched page has loaded (its own routing has run). */
  function restoreScroll(place) {
    const loaded = () => {
      frame.removeEventListener("load", loaded);
      try { frame.contentWindow.scrollTo(place.x, place.y); } catch (e) { /* gone again */ }
    };
    frame.addEventListener("load", loaded);
  }

  /* Launch the current SCO. `place` (after a rebuild) keeps the unit and scroll position when
     it is on the page being launched; a real LMS would start at the launch page. */
  function launch(place) {
    closeContent(() => {
      const s = sco();
      if (!s) return;
      installApi();
      session = newSession(version === "2004");
      changed = new Set();
      launchStart = performance.now();
      const base = build.targets[version === "1.2" ? "scorm12" : "scorm2004"].base;
      lmsNote("launch " + (session.record.launches + 1) + " of " + s.id + " (SCORM " + version + "), entry " +
        JSON.stringify(session.fixed[version === "1.2" ? "cmi.core.entry" : "cmi.entry"]));
      launchedGeneration = build.goodGeneration;
      renderCmi();
      let src = base + s.href;
      if (place && new URL(src, location.href).pathname === place.path) {
        if (place.hash && !s.href.includes("#")) src += place.hash;
        restoreScroll(place);
      }
      frame.setAttribute("src", src);
    });
  }

  function fillScos() {
    const target = build.targets[version === "1.2" ? "scorm12" : "scorm2004"];
    const select = $("sco");
    select.textContent = "";
    target.scos.forEach((s, i) => {
      const o = document.createElement("option");
      o.value = String(i); o.textContent = s.title + " (" + s.href + ")";
      select.appendChild(o);
    });
    scoIndex = Math.min(scoIndex, target.scos.length - 1);
    select.value = String(scoIndex);
    $("sco-label").hidden = target.scos.length < 2;
  }

  function showBuild(b) {
    const status = $("build-status");
    const warnings = b.diagnostics.filter((d) => d.severity === "warning").length;
    status.textContent = b.ok
      ? "build " + b.generation + " ok in " + b.seconds + " s" + (warnings ? ", " + warnings + " warning(s)" : "")
      : "build " + b.generation + " failed: " + b.diagnostics.filter((d) => d.severity === "error").length + " error(s)";
    status.className = "status " + (b.ok ? "ok" : "fail");
    $("errors").hidden = b.ok;
    $("error-list").textContent = b.ok ? "" : b.diagnostics.map((d) => d.text).join("\n");
    if (b.course && b.course.title) $("course-title").textContent = b.course.title;
  }

  async function poll() {
    try {
      const res = await fetch("/__build", { cache: "no-store" });
      const b = await res.json();
      const first = build === null;
      if (first || b.generation !== build.generation) {
        build = b;
        showBuild(b);
        if (b.goodGeneration && b.goodGeneration !== launchedGeneration) {
          const place = first ? null : placeInContent();
          fillScos();
          if (!first) lmsNote("the course was rebuilt: relaunching");
          launch(place);
        }
      }
    } catch (e) {
      $("build-status").textContent = "the preview server is not answering";
      $("build-status").className = "status fail";
    }
    setTimeout(poll, 1000);
  }

  $("version").value = version;
  $("version").addEventListener("change", (e) => {
    version = e.target.value;
    localStorage.setItem("sim:version", version);
    if (build && build.goodGeneration) { fillScos(); launch(); }
  });
  $("sco").addEventListener("change", (e) => { scoIndex = Number(e.target.value); launch(); });
  $("relaunch").addEventListener("click", () => { if (build && build.goodGeneration) launch(); });
  $("close").addEventListener("click", () => closeContent(() => { lmsNote("content closed"); renderCmi(); }));
  $("reset").addEventListener("click", () => {
    closeContent(() => {
      localStorage.removeItem(recordKey());
      lmsNote("learner record reset");
      if (build && build.goodGeneration) launch();
    });
  });
  $("clear-log").addEventListener("click", () => { logEl.textContent = ""; });
  poll();
})();
