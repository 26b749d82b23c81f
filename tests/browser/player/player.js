/* Test LMS player: gives the SCO scorm-again's API, records every call and error code, refuses
 * what Moodle refuses (moodle-rules.js: SetValue "false", error 405/406) and, on request, any
 * element matching `player.refuse`; can make SetValue or Commit fail, and relaunches SCOs with
 * their stored CMI data as an LMS would. Python drives it through window.player
 * (tests/browser/browser_support.py). */
(function () {
  "use strict";
  var NAMES = {
    "1.2": { init: "LMSInitialize", finish: "LMSFinish", get: "LMSGetValue", set: "LMSSetValue",
      commit: "LMSCommit", error: "LMSGetLastError", string: "LMSGetErrorString",
      diagnostic: "LMSGetDiagnostic", global: "API" },
    "2004": { init: "Initialize", finish: "Terminate", get: "GetValue", set: "SetValue",
      commit: "Commit", error: "GetLastError", string: "GetErrorString",
      diagnostic: "GetDiagnostic", global: "API_1484_11" }
  };
  var api = null, names = null, injected = "0";

  var player = {
    version: null, calls: [], errors: [], terminated: 0, initialized: 0, launches: 0,
    fail: { set: false, commit: false }, sequence: [], current: null, store: {}, history: {},
    navRequest: "", refused: [], refuse: null, types: {},

    /** Launch one SCO: opts = {version, base, href, cmi, sequence}. */
    launch: function (opts) {
      player.version = opts.version;
      names = NAMES[opts.version];
      if (opts.sequence) player.sequence = opts.sequence;
      player.base = opts.base;
      player.current = opts.href;
      player.terminated = 0;
      player.initialized = 0;
      player.navRequest = "";
      player.types = {};
      player.launches += 1;
      var settings = { logLevel: 5, autocommit: false, lmsCommitUrl: false };
      api = opts.version === "1.2" ? new window.Scorm12API(settings)
        : new window.Scorm2004API(settings);
      var cmi = opts.cmi !== undefined ? opts.cmi : player.store[opts.href];
      if (cmi) api.loadFromJSON(cmi, "cmi");
      if (opts.version === "1.2") {
        delete window.API_1484_11; window.API = wrap(api, player.launches, opts.href);
      } else {
        delete window.API; window.API_1484_11 = wrap(api, player.launches, opts.href);
      }
      document.getElementById("sco").src = opts.base + opts.href;
    },

    /** Close the SCO as a learner closing the window would: its document is unloaded. */
    close: function () {
      document.getElementById("sco").src = "about:blank";
    },

    /** The CMI data as an LMS would store it (nested JSON). */
    cmi: function () { return api ? JSON.parse(JSON.stringify(api.cmi)) : null; },

    /** The data an LMS hands back on the next launch of the SCO that just ran. */
    relaunchData: function () {
      var c = player.cmi();
      if (!c) return null;
      if (player.version === "1.2") {
        var core = c.core || {};
        return {
          core: {
            lesson_status: core.lesson_status, lesson_location: core.lesson_location,
            score: core.score, entry: core.exit === "suspend" ? "resume" : ""
          },
          suspend_data: c.suspend_data, objectives: c.objectives
        };
      }
      if (c.exit !== "suspend") return { entry: "ab-initio" };
      return {
        entry: "resume", completion_status: c.completion_status,
        success_status: c.success_status, location: c.location, suspend_data: c.suspend_data,
        score: c.score, progress_measure: c.progress_measure, objectives: c.objectives,
        interactions: c.interactions
      };
    }
  };

  /* Why this LMS refuses a SetValue (Moodle's rules, or the test's `refuse`), or null. */
  function refusal(args) {
    var el = String(args[0]), v = String(args[1]);
    var m = /^cmi\.interactions\.(\d+)\.type$/.exec(el);
    if (player.refuse && new RegExp(player.refuse).test(el)) return "refused by the test";
    var why = window.moodleRules.check(player.version, el, v, player.types);
    if (!why && m) player.types[m[1]] = v;
    return why;
  }

  /* The facade the SCO sees. Calls from a SCO that was replaced (a stale launch) are still
   * recorded and checked, but only the current launch drives the bookkeeping. */
  function wrap(real, launch, href) {
    var facade = {};
    Object.keys(NAMES[player.version]).forEach(function (key) {
      if (key === "global") return;
      var fn = names[key];
      facade[fn] = function () {
        var args = Array.prototype.slice.call(arguments);
        var live = launch === player.launches;
        if (key === "error") return injected !== "0" ? injected : real[fn].apply(real, args);
        var result;
        if (live && ((key === "set" && player.fail.set) ||
            (key === "commit" && player.fail.commit))) {
          injected = "101";
          result = "false";
          player.calls.push({ fn: fn, args: args, result: result, error: "101", injected: true });
          return result;
        }
        injected = "0";
        var why = key === "set" ? refusal(args) : null;
        if (why) {
          injected = player.version === "1.2" ? "405" : "406";
          var refused = { fn: fn, args: args, result: "false", error: injected, href: href,
            refused: why };
          player.calls.push(refused);
          player.refused.push(refused);
          player.errors.push(refused);
          return "false";
        }
        if (live && key === "set" && args[0] === "adl.nav.request") {
          player.navRequest = String(args[1]);
        }
        result = real[fn].apply(real, args);
        var code = String(real.lastErrorCode);
        var call = { fn: fn, args: args, result: String(result), error: code, href: href };
        if (!live) call.stale = true;
        player.calls.push(call);
        if (code !== "0") player.errors.push(call);
        if (live && key === "init" && String(result) === "true") player.initialized += 1;
        if (key === "finish" && String(result) === "true") {
          player.history[href] = JSON.parse(JSON.stringify(real.cmi));
          // Kept where a test can read it after the player's page is gone (closed, left).
          try {
            localStorage.setItem("player.finished", JSON.stringify(
              { href: href, cmi: player.history[href], calls: player.calls }));
          } catch (e) { /* storage unavailable: only tests that leave the page need it */ }
          if (live) {
            player.terminated += 1;
            afterTerminate();
          }
        }
        return result;
      };
    });
    return facade;
  }

  /* As Moodle does for SCORM 2004: store the SCO's data and act on continue / previous. */
  function afterTerminate() {
    player.store[player.current] = player.relaunchData();
    if (player.version !== "2004") return;
    var nav = player.navRequest;
    var i = player.sequence.indexOf(player.current);
    var next = nav === "continue" ? i + 1 : nav === "previous" ? i - 1 : -1;
    if (i < 0 || next < 0 || next >= player.sequence.length) return;
    setTimeout(function () {
      player.launch({ version: player.version, base: player.base, href: player.sequence[next] });
    }, 0);
  }

  window.player = player;
})();
