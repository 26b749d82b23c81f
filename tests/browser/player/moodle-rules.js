/* What Moodle 4.5's SCORM player refuses although scorm-again (and often the specification)
 * accepts it: the measured rules of the SCORM notes, as one function. The test player applies
 * it before scorm-again sees a value, and refuses the value as Moodle does: SetValue returns
 * "false" with error 405 (SCORM 1.2) or 406 (SCORM 2004). Test-only. */
(function () {
  "use strict";
  function re(source) { return new RegExp(source); }
  var DECIMAL2 = /^-?\d{0,3}(\.\d{1,2})?$/;
  var SHORT_ID = /^[\w.]{1,250}$/;
  // Moodle's CMITime: each part optional after the year, seconds with at most 2 decimals.
  var TIME = re("^(19[7-9]\\d|20[0-2]\\d|203[0-8])" +
    "((-(0[1-9]|1[0-2]))" +
    "((-(0[1-9]|[12]\\d|3[01]))" +
    "(T([01]\\d|2[0-3])" +
    "((:[0-5]\\d)" +
    "((:[0-5]\\d)" +
    "((\\.\\d{1,2})" +
    "((Z|([+-]([01]\\d|2[0-3])))(:[0-5]\\d)?)?" +
    ")?)?)?)?)?)?$");
  var DURATION = /^P(\d+Y)?(\d+M)?(\d+D)?(T(\d+H)?(\d+M)?(\d+(\.\d{1,2})?S)?)?$/;
  var LANG250 = /^(\{lang=([a-zA-Z]{2,3}|i|x)(-[a-zA-Z0-9-]{2,8})?\})?([^{].{0,250}$)?/;
  var LANG4000 = /^(\{lang=([a-zA-Z]{2,3}|i|x)(-[a-zA-Z0-9-]{2,8})?\})?([^{].{0,4000}$)?$/;

  function whole(pattern, v) {
    var m = pattern.exec(v);
    return m !== null && m[0] === v;
  }
  function ids(v) { return v.split("[,]").every(function (x) { return SHORT_ID.test(x); }); }
  function pairs(v) {
    return v.split("[,]").every(function (p) {
      var s = p.split("[.]");
      return s.length === 2 && SHORT_ID.test(s[0]) && SHORT_ID.test(s[1]);
    });
  }
  /* A response in the format of its interaction type (SCORM 2004). */
  function response(type, v, pattern) {
    switch (type) {
      case "choice": case "sequencing": return v === "" || ids(v);
      case "likert": return SHORT_ID.test(v);
      case "matching": return pairs(v);
      case "performance":
        return v.split("[,]").every(function (s) {
          var p = s.split("[.]");
          return p.length === 2 && (p[0] === "" || SHORT_ID.test(p[0]));
        });
      case "true-false": return /^(true|false)$/.test(v);
      case "fill-in":
        return v.split("[,]").every(function (t) {
          if (pattern) t = t.replace(/^\{(case|order)_matters=(true|false)\}/, "");
          return whole(LANG250, t);
        });
      case "long-fill-in":
        if (pattern) v = v.replace(/^\{case_matters=(true|false)\}/, "");
        return whole(LANG4000, v);
      default: return true;
    }
  }

  /* Why Moodle would refuse `element` = `value`, or null. `types` maps interaction indexes
   * to the type the SCO set for them. */
  function check(version, element, value, types) {
    var v = String(value), m;
    if (version === "1.2") {
      if (element === "cmi.core.lesson_status" &&
          !/^(passed|completed|failed|incomplete|browsed)$/.test(v)) return "lesson_status";
      if (/score\.(raw|min|max)$/.test(element) &&
          !(DECIMAL2.test(v) && (v === "" || (+v >= 0 && +v <= 100)))) return "score";
      if (element === "cmi.core.session_time" && !/^\d{2,4}:\d\d:\d\d(\.\d{1,2})?$/.test(v)) {
        return "session_time";
      }
      if (element === "cmi.core.exit" && !/^(time-out|suspend|logout|)$/.test(v)) return "exit";
      if (element === "cmi.suspend_data" && v.length > 4096) return "suspend_data > 4096";
      if (element === "cmi.core.lesson_location" && v.length > 255) return "location > 255";
      if (/^cmi\.interactions\.\d+\.result$/.test(element) &&
          !/^(correct|wrong|unanticipated|neutral)$/.test(v) && !DECIMAL2.test(v)) {
        return "1.2 result";
      }
      if (/^cmi\.interactions\.\d+\.(student_response|correct_responses\.\d+\.pattern)$/
        .test(element) && v.length > 255) return "response > 255";
      if (/^cmi\.interactions\.\d+\.(id|objectives\.\d+\.id)$|^cmi\.objectives\.\d+\.id$/
        .test(element) && !/^[\x21-\x7e]{1,255}$/.test(v)) return "identifier";
      if (/^cmi\.interactions\.\d+\.time$/.test(element) &&
          !/^[0-2]\d:[0-5]\d:[0-5]\d(\.\d{1,2})?$/.test(v)) return "time";
      return null;
    }
    if (/timestamp$/.test(element) && !TIME.test(v)) return "timestamp";
    if (/session_time$|latency$/.test(element) && !DURATION.test(v)) return "duration";
    if (/^cmi\.exit$/.test(element) && !/^(time-out|suspend|logout|normal|)$/.test(v)) {
      return "exit";
    }
    if (/completion_status$/.test(element) &&
        !/^(completed|incomplete|not attempted|unknown)$/.test(v)) return "completion_status";
    if (/success_status$/.test(element) && !/^(passed|failed|unknown)$/.test(v)) {
      return "success_status";
    }
    if (/^cmi\.interactions\.\d+\.description$/.test(element) && !whole(LANG250, v)) {
      return "description";
    }
    m = /^cmi\.interactions\.(\d+)\.(learner_response|correct_responses\.\d+\.pattern)$/
      .exec(element);
    if (m && !response(types[m[1]], v, m[2] !== "learner_response")) {
      return "response of a " + types[m[1]] + " interaction";
    }
    if (element === "cmi.suspend_data" && v.length > 64000) return "suspend_data > 64000";
    return null;
  }

  window.moodleRules = { check: check };
})();
