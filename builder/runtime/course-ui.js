/* scorm-builder course UI: navigation, contents drawer, progress, resume, completion, quizzes,
 * note pop-ups, reveals.
 *
 * Reads the page's data- attributes and talks only to the tracker's facade
 * (window.scormBuilder.tracker, from scorm-runtime.js): it never calls the LMS itself. */
(function () {
  "use strict";
  var root = document.documentElement;
  root.classList.remove("no-js");
  root.classList.add("js");
  if (!window.scormBuilder) return;
  var tracker = window.scormBuilder.tracker;
  var course = tracker.course;
  var SINGLE = course.mode === "single";
  /* The interface strings, from assets/package.js (one file for every page). Should it not
   * have loaded (the tracker says so in the console), a text shows its key rather than fail. */
  var pkg = window.scormBuilderPackage;
  var T = new Proxy(pkg && pkg.strings ? pkg.strings : {}, {
    get: function (strings, key) { return typeof strings[key] === "string" ? strings[key] : key; }
  });

  function $(selector, scope) { return (scope || document).querySelector(selector); }
  function $$(selector, scope) {
    return Array.prototype.slice.call((scope || document).querySelectorAll(selector));
  }
  function fmt(key, values) {
    return T[key].replace(/\{(\w+)\}/g, function (m, k) { return String(values[k]); });
  }
  function el(tag, cls, text) {
    var node = document.createElement(tag);
    if (cls) node.className = cls;
    if (text) node.textContent = text;
    node.setAttribute("data-generated", "");
    return node;
  }
  function focusOn(node) {
    if (!node) return;
    var focusable = /^(A|BUTTON|INPUT|SELECT|TEXTAREA)$/.test(node.tagName);
    if (!focusable && !node.hasAttribute("tabindex")) node.setAttribute("tabindex", "-1");
    node.focus();
  }

  /* ------------------------------------------------------------------ notices */
  var notice = $("[data-notice]");
  var NOTICES = { standalone: "standalone", "lms-error": "lms.error", "lms-ok": "lms.saved",
    "session-ended": "session.ended", "exit-done": "exit.done" };
  function showNotice(kind) {
    if (!notice || !NOTICES[kind]) return;
    notice.textContent = T[NOTICES[kind]];
    notice.hidden = false;
  }
  document.addEventListener("scormbuilder:notice", function (e) { showNotice(e.detail); });
  if (tracker.standalone) showNotice("standalone");
  if (tracker.failing) showNotice("lms-error");

  /* ------------------------------------------------------------------ pages */
  var sections = $$("[data-unit]");
  var unitIds = course.units.map(function (u) { return u.id; });
  var current = null;
  var baseTitle = document.title;

  function sectionOf(id) {
    var target = id ? document.getElementById(id) : null;
    return target ? target.closest("[data-unit]") : null;
  }
  function unitOf(id) { return course.units.filter(function (u) { return u.id === id; })[0]; }
  /* One measure everywhere: a unit is done once seen and, if it has a graded check, tried.
   * A check below its pass mark shows its score: practice is never called "failed". */
  function unitDone(id) {
    var status = tracker.unitStatus(id);
    return status === "completed" || status === "passed" || status === "failed";
  }
  function statusText(id) {
    var status = tracker.unitStatus(id), unit = unitOf(id);
    if (status === "failed") return fmt("status.score", { score: tracker.quiz(unit.quiz.id).best });
    if (status === "passed") return T["status.passed"];
    if (status === "completed") return T["status.completed"];
    if (status === "in-progress") return T["status.in-progress"];
    return T["status.not-started"];
  }
  function doneCount() { return unitIds.filter(unitDone).length; }
  function updateStatus() {
    $$("[data-status-for]").forEach(function (span) {
      span.textContent = statusText(span.getAttribute("data-status-for"));
    });
    var bar = $("[data-progress-bar]"), text = $("[data-progress-text]");
    if (SINGLE && bar && unitIds.length) {
      var done = doneCount();
      $("[data-progress]").hidden = false;
      bar.value = Math.round((done / unitIds.length) * 100);
      text.textContent = fmt("progress.text", { done: done, total: unitIds.length });
    }
    if (SINGLE) showCompletion();
  }
  function show(section, target, moveFocus) {
    if (section !== current) {
      current = section;
      sections.forEach(function (s) { s.hidden = s !== section; });
      var i = sections.indexOf(section);
      var prev = $("[data-prev]"), next = $("[data-next]");
      if (SINGLE) {
        if (prev) prev.disabled = i <= 0;
        if (next) next.disabled = i >= sections.length - 1;
        $$("[data-nav]").forEach(function (a) {
          if (a.getAttribute("data-nav") === section.id) a.setAttribute("aria-current", "page");
          else a.removeAttribute("aria-current");
        });
        var h1 = $("h1", section);
        document.title = section.id === "home" || !h1 ? baseTitle
          : h1.textContent + " – " + baseTitle;
      }
      tracker.pageViewed(section.getAttribute("data-unit"));
      closeContents(false);
      updateStatus();
      if (!target || target === section) {
        window.scrollTo(0, 0);  // a new unit opens at its top, not where the last one was left
        if (moveFocus) focusOn($("h1", section));
      }
    }
    if (target && target !== section) {
      target.scrollIntoView();
      if (moveFocus) focusOn(target);
    }
  }
  function route(moveFocus) {
    var id = location.hash.slice(1);
    try { id = decodeURIComponent(id); } catch (e) { /* keep it as typed */ }
    var section = sectionOf(id);
    if (section) show(section, document.getElementById(id), moveFocus);
    else if (!current) show(sections[0], null, false);
  }
  function go(id) {
    if (location.hash === "#" + id) route(true);
    else location.hash = id;
  }

  /* ------------------------------------------------------------------ contents drawer */
  var tocToggle = $("[data-toc-toggle]");
  function closeContents(moveFocus) {
    if (!document.body.classList.contains("toc-open")) return;
    document.body.classList.remove("toc-open");
    tocToggle.setAttribute("aria-expanded", "false");
    if (moveFocus) tocToggle.focus();
  }
  if (tocToggle) {
    tocToggle.addEventListener("click", function () {
      if (document.body.classList.contains("toc-open")) { closeContents(true); return; }
      document.body.classList.add("toc-open");
      tocToggle.setAttribute("aria-expanded", "true");
      focusOn($('nav a[aria-current="page"]') || $("nav a"));
    });
    $("[data-toc-close]").addEventListener("click", function () { closeContents(true); });
    document.addEventListener("keydown", function (e) {
      if (e.key === "Escape") closeContents(true);
    });
    // A click beside the open drawer (on the dimmed page) closes it.
    document.addEventListener("click", function (e) {
      if (!e.target.closest("nav.toc, [data-toc-toggle]")) closeContents(false);
    });
    // A link chosen in the drawer closes it, even when it leads to the page on screen.
    $$("nav a").forEach(function (a) {
      a.addEventListener("click", function () { closeContents(false); });
    });
    // Tab past the drawer's last link (or back before its first) closes it, so that the
    // keyboard never moves through the dimmed page behind an open drawer.
    $("nav.toc").addEventListener("focusout", function (e) {
      var to = e.relatedTarget;
      if (to && !to.closest("nav.toc, [data-toc-toggle]")) closeContents(false);
    });
  }

  /* ------------------------------------------------------------------ completion */
  var completion = $("[data-completion]");
  var assessmentUnit = unitOf(course.reporting.assessment);
  var assessmentQuiz = assessmentUnit && assessmentUnit.quiz && assessmentUnit.quiz.maxPoints > 0
    ? assessmentUnit.quiz : null;
  /* Whether the course's completion rule is met (the rule the tracker reports to the LMS). */
  function courseDone() {
    var rule = assessmentQuiz ? course.reporting.status : "completed/incomplete";
    if (rule === "completed/incomplete") return tracker.visitedCount() === unitIds.length;
    var state = tracker.quiz(assessmentQuiz.id);
    var passed = state.attempts > 0 && state.best >= tracker.passMark(assessmentQuiz);
    if (rule === "passed/incomplete") return passed;
    return passed || (state.attempts > 0 && tracker.attemptsLeft(assessmentQuiz) === 0);
  }
  /* The panel shows on the overview and on the last unit (after its check, if any). */
  function showCompletion() {
    if (!completion || !current) return;
    var last = current.id === unitIds[unitIds.length - 1] ||
      (assessmentUnit && current.id === assessmentUnit.id);
    var visible = courseDone() && (current.id === "home" || last);
    completion.hidden = !visible;
    if (!visible) return;
    // After the unit's check (or at its end); on the overview, after the resume box.
    var anchor = current.id === "home" ? $("[data-resume]", current) || $("h1", current)
      : $("form[data-quiz]", current);
    if (anchor) anchor.parentNode.insertBefore(completion, anchor.nextSibling);
    else current.appendChild(completion);
    $("[data-completion-units]", completion).textContent =
      fmt("completion.units", { done: doneCount(), total: unitIds.length });
    var score = $("[data-completion-score]", completion);
    score.hidden = !assessmentQuiz;
    if (assessmentQuiz) {
      score.textContent = fmt("completion.score", { score: tracker.quiz(assessmentQuiz.id).best,
        pass: tracker.passMark(assessmentQuiz) });
    }
  }
  if (completion) {
    $("[data-completion-review]", completion).addEventListener("click", function () {
      go(unitIds[0]);
    });
  }

  if (SINGLE) {
    window.addEventListener("hashchange", function () { route(true); });
    $("[data-pager]").hidden = false;
    $("[data-prev]").addEventListener("click", function () {
      var i = sections.indexOf(current);
      if (i > 0) go(sections[i - 1].id);
    });
    $("[data-next]").addEventListener("click", function () {
      var i = sections.indexOf(current);
      if (i < sections.length - 1) go(sections[i + 1].id);
    });
    var startButton = $("[data-start]");
    if (startButton) startButton.addEventListener("click", function () { go(unitIds[0]); });
    route(false);
    var resume = $("[data-resume]");
    if (resume && tracker.resumed && unitIds.indexOf(tracker.resumeLocation) >= 0 &&
        current && current.id === "home") {
      resume.hidden = false;
      $("[data-resume-yes]").addEventListener("click", function () {
        resume.hidden = true;
        go(tracker.resumeLocation);
      });
      $("[data-resume-no]").addEventListener("click", function () {
        resume.hidden = true;
        go(unitIds[0]);
      });
    }
  } else {
    setupMulti();
  }

  /* One SCO per page: moving between pages is the LMS's job. */
  function setupMulti() {
    show(sections[0], null, false);
    var lmsNav = tracker.canNavigate();
    var viaLinks = tracker.standalone;
    var pager = $("[data-pager]");
    var buttons = $$("[data-prev], [data-next], [data-start]");
    buttons.forEach(function (b) {
      var href = b.getAttribute("data-href");
      if (!href || (!lmsNav && !viaLinks)) { b.hidden = true; return; }
      b.addEventListener("click", function () {
        if (viaLinks) { location.href = href; return; }
        tracker.navigate(b.hasAttribute("data-prev") ? "previous" : "continue");
      });
    });
    if (pager) {
      pager.hidden = !buttons.some(function (b) {
        return !b.hidden && !b.hasAttribute("data-start");
      });
    }
    var hint = $("[data-lms-nav]");
    if (hint && !lmsNav && !viaLinks) hint.hidden = false;
    if (!viaLinks) {
      // A link to another SCO's page would leave the LMS's control: keep its text only.
      $$("a[href]").forEach(function (a) {
        var href = a.getAttribute("href");
        if (a.hasAttribute("data-external-unit") || /^[a-z][a-z0-9-]*\.html(#|$)/.test(href)) {
          var span = document.createElement("span");
          span.textContent = a.textContent;
          a.parentNode.replaceChild(span, a);
        }
      });
    }
  }

  var exitButton = $("[data-exit]");
  if (exitButton && !tracker.standalone) {
    exitButton.hidden = false;
    exitButton.addEventListener("click", function () {
      if (tracker.exit()) {
        exitButton.hidden = true;
        showNotice("exit-done");
      }
    });
  }

  /* ------------------------------------------------------------------ quizzes */
  var quizOfQuestion = {};
  course.units.forEach(function (u) {
    if (!u.quiz) return;
    u.quiz.questions.forEach(function (q) { quizOfQuestion[q.id] = u.quiz.id; });
  });

  function normalise(text, caseSensitive) {
    text = String(text || "").normalize("NFC").trim().replace(/\s+/g, " ");
    return caseSensitive ? text : text.toLowerCase();
  }
  function isCorrect(q, r) {
    switch (q.type) {
      case "single-choice": return r === q.correct[0];
      case "multiple-response":
        return Array.isArray(r) && r.length === q.correct.length &&
          q.correct.every(function (c) { return r.indexOf(c) >= 0; });
      case "true-false": return r === q.correct;
      case "matching":
        return q.prompts.every(function (p) { return r && r[p] === q.correct[p]; });
      case "sequencing":
        return Array.isArray(r) && r.join(",") === q.correct.join(",");
      case "fill-in":
        return q.correct.some(function (a) {
          return normalise(a, q.caseSensitive) === normalise(r, q.caseSensitive);
        });
      default: return false;
    }
  }
  /* The share of a question's points a response earns. A quiz with `scoring: partial` counts
     multiple-response and matching questions as Moodle does: each right option earns 1/(right
     options), each wrong one takes back 1/(wrong options), kept between 0 and 1; each right
     pair earns 1/(prompts). Otherwise, and for every other type, a question is right or not. */
  function credit(q, r, scoring) {
    if (scoring === "partial" && q.type === "multiple-response") {
      var chosen = Array.isArray(r) ? r : [], wrong = q.options.length - q.correct.length;
      var sum = chosen.reduce(function (total, id) {
        if (q.correct.indexOf(id) >= 0) return total + 1 / q.correct.length;
        return q.options.indexOf(id) >= 0 && wrong ? total - 1 / wrong : total;
      }, 0);
      return isCorrect(q, r) ? 1 : Math.min(1, Math.max(0, sum));
    }
    if (scoring === "partial" && q.type === "sequencing") {
      // Each step in its right place earns its share (Moodle's "absolute position").
      return q.correct.filter(function (id, k) { return Array.isArray(r) && r[k] === id; })
        .length / q.correct.length;
    }
    if (scoring === "partial" && q.type === "matching") {
      return q.prompts.filter(function (p) { return r && r[p] === q.correct[p]; }).length /
        q.prompts.length;
    }
    return isCorrect(q, r) ? 1 : 0;
  }
  function getResponse(item) {
    var q = item.q, box = item.el, checked;
    switch (q.type) {
      case "single-choice":
      case "likert":
        checked = $("input:checked", box);
        return checked ? checked.value : undefined;
      case "sequencing":
        return $$("[data-step]", box).map(function (li) { return li.getAttribute("data-step"); });
      case "true-false":
        checked = $("input:checked", box);
        return checked ? checked.value === "true" : undefined;
      case "multiple-response":
        return $$("input:checked", box).map(function (i) { return i.value; });
      case "matching":
        var map = {};
        $$("select[data-prompt]", box).forEach(function (s) {
          if (s.value) map[s.getAttribute("data-prompt")] = s.value;
        });
        return map;
      default:
        return $("input, textarea", box).value;
    }
  }
  /* Put a sequencing question's steps in this order (ids); unknown ids are ignored. */
  function arrangeSteps(box, order) {
    var list = $("[data-sequence]", box);
    (order || []).forEach(function (id) {
      var li = $('[data-step="' + id + '"]', list);
      if (li) list.appendChild(li);
    });
  }
  function setResponse(item, r) {
    var q = item.q, box = item.el;
    if (q.type === "sequencing") {
      arrangeSteps(box, Array.isArray(r) ? r : item.order);
    } else if (q.type === "matching") {
      $$("select[data-prompt]", box).forEach(function (s) {
        s.value = (r && r[s.getAttribute("data-prompt")]) || "";
      });
    } else if (q.type === "fill-in" || q.type === "reflection") {
      $("input, textarea", box).value = r || "";
    } else {
      $$("input", box).forEach(function (i) {
        i.checked = q.type === "multiple-response" ? !!r && r.indexOf(i.value) >= 0
          : r !== undefined && i.value === String(r);
      });
    }
  }
  function promptText(box) {
    var label = $("legend, .prompt", box);
    return label ? label.textContent.trim() : "";
  }

  function setupQuiz(form) {
    var quiz = null;
    course.units.forEach(function (u) {
      if (u.quiz && u.quiz.id === form.getAttribute("data-quiz")) quiz = u.quiz;
    });
    if (!quiz) return;
    var graded = quiz.maxPoints > 0;
    var allItems = quiz.questions.map(function (q) {
      return { q: q, el: $('[data-question="' + q.id + '"]', form), order: null };
    }).filter(function (i) { return i.el; });
    var items = allItems;
    // Only the answers of the questions before the learner count: the ones drawn this attempt.
    var laterFeedback = quiz.feedback === "after-pass-or-last-attempt";
    /* This attempt's questions (a draw) and option orders (shuffle), as the tracker keeps
     * them: the questions not drawn are hidden, the options moved into their order. */
    function applyLayout() {
      var layout = tracker.layout(quiz.id);
      items = allItems.filter(function (i) {
        return !layout || !layout.drawn || layout.drawn.indexOf(i.q.id) >= 0;
      });
      allItems.forEach(function (i) {
        i.el.hidden = items.indexOf(i) < 0;
        i.order = layout && layout.orders[i.q.id] || null;
        if (!i.order || i.q.type === "sequencing") return;
        var first = $(".option", i.el), parent = first && first.parentNode;
        i.order.forEach(function (id) {
          var input = $('input[value="' + id + '"]', i.el);
          if (input) parent.insertBefore(input.closest(".option"), $("[data-feedback]", i.el));
        });
      });
    }
    applyLayout();
    var submit = $("[data-submit]", form), retry = $("[data-retry]", form);
    var result = $("[data-result]", form), confirm = $("[data-confirm]", form);
    var isAssessment = !!assessmentQuiz && assessmentQuiz.id === quiz.id;
    var attemptStart = Date.now(), changedAt = {}, reviewing = false, typing = null;

    items.forEach(function (i) {
      var saved = tracker.answer(i.q.id);
      if (saved !== undefined || i.q.type === "sequencing") setResponse(i, saved);
    });
    /* Move up / Move down: the keyboard way (and the only way) to reorder steps. The button
     * keeps the focus, and the new position is announced. */
    form.addEventListener("click", function (e) {
      var button = e.target.closest("[data-move]");
      if (!button || reviewing || button.disabled) return;
      var li = button.closest("[data-step]"), list = li.parentNode, item = itemOf(li);
      if (button.getAttribute("data-move") === "up" && li.previousElementSibling) {
        list.insertBefore(li, li.previousElementSibling);
      } else if (button.getAttribute("data-move") === "down" && li.nextElementSibling) {
        list.insertBefore(li.nextElementSibling, li);
      }
      button.focus();
      var steps = $$("[data-step]", list);
      $("[data-sequence-status]", item.el).textContent = fmt("sequence.moved", {
        text: $(".step-text", li).textContent.trim(), n: steps.indexOf(li) + 1, total: steps.length
      });
      save(item);
      if (confirm) confirm.hidden = true;
    });

    function itemOf(node) {
      var box = node.closest("[data-question]");
      return items.filter(function (i) { return i.el === box; })[0];
    }
    function save(item) {
      changedAt[item.q.id] = Date.now();
      tracker.answerChanged(item.q.id, getResponse(item));
    }
    form.addEventListener("change", function (e) {
      var item = itemOf(e.target);
      if (item && !reviewing) save(item);
      if (item && confirm) confirm.hidden = true;  // its count of blank questions is out of date
    });
    form.addEventListener("input", function (e) {
      var item = itemOf(e.target);
      if (!item || reviewing || !/^(INPUT|TEXTAREA)$/.test(e.target.tagName)) return;
      // Typing is saved after a pause, not on every key.
      clearTimeout(typing);
      typing = setTimeout(function () { save(item); }, 700);
    });
    // Enter in a field never submits a graded quiz: only its button does.
    form.addEventListener("keydown", function (e) {
      if (graded && e.key === "Enter" && e.target.tagName === "INPUT") e.preventDefault();
    });
    /* Before a graded submission with questions left blank: say how many, ask to confirm. */
    function unanswered() {
      return items.filter(function (i) {
        return i.q.points > 0 && !hasAnswer(getResponse(i));
      });
    }
    if (confirm) {
      $("[data-confirm-yes]", confirm).addEventListener("click", function () {
        confirm.hidden = true;
        submitQuiz();
      });
      $("[data-confirm-no]", confirm).addEventListener("click", function () {
        confirm.hidden = true;
        var blank = unanswered()[0];
        if (blank) focusOn($("input, select, textarea", blank.el));
      });
    }
    form.addEventListener("submit", function (e) {
      e.preventDefault();
      if (reviewing || (graded && tracker.attemptsLeft(quiz) === 0)) return;
      var blank = graded ? unanswered().length : 0;
      if (blank && confirm) {
        var total = items.filter(function (i) { return i.q.points > 0; }).length;
        $("[data-confirm-text]", confirm).textContent =
          fmt("unanswered", { n: blank, total: total });
        confirm.hidden = false;
        focusOn($("[data-confirm-text]", confirm));
        return;
      }
      submitQuiz();
    });
    function submitQuiz() {
      clearTimeout(typing);
      var now = Date.now();
      var results = items.map(function (i) {
        var r = getResponse(i);
        return { question: i.q, response: r, correct: isCorrect(i.q, r), prompt: promptText(i.el),
          latencyMs: (changedAt[i.q.id] || now) - attemptStart };
      });
      if (!graded) {
        tracker.quizSubmitted(quiz.id, results, null);
        showExamples();
        result.hidden = false;
        $("[data-result-summary]", result).textContent = T.saved;
        $("[data-result-list]", result).textContent = "";
        afterChange();
        return;
      }
      tracker.quizSubmitted(quiz.id, results, score());
      review(true);
      afterChange();  // the completion panel, if this made the course complete, follows the quiz
    }
    if (retry) {
      retry.addEventListener("click", function () {
        tracker.quizReopened(quiz.id);
        reviewing = false;
        attemptStart = Date.now();
        changedAt = {};
        allItems.forEach(function (i) { clearMarks(i.el); });
        applyLayout();  // a new draw and a new order for the new attempt
        items.forEach(function (i) {
          if (i.q.points > 0) {
            setResponse(i, undefined);
            tracker.answerChanged(i.q.id, getResponse(i));
          }
        });
        result.hidden = true;
        retry.hidden = true;
        submit.hidden = false;
        focusOn($("h2", form));
      });
    }

    function score() {
      var earned = 0, max = 0;
      items.forEach(function (i) {
        if (!(i.q.points > 0)) return;
        max += i.q.points;
        earned += i.q.points * credit(i.q, getResponse(i), quiz.scoring);
      });
      return max ? Math.round((earned / max) * 10000) / 100 : 0;
    }
    function showExamples() {
      $$('[data-fb="example"]', form).forEach(function (fb) { fb.hidden = false; });
    }
    function clearMarks(box) {
      box.classList.remove("is-correct", "is-incorrect");
      $$("[data-generated]", box).forEach(function (n) { n.parentNode.removeChild(n); });
      $$("[data-fb], [data-fb-option]", box).forEach(function (fb) { fb.hidden = true; });
      $$(".is-answer", box).forEach(function (n) { n.classList.remove("is-answer"); });
      $$("input, select, textarea, [data-move]", box).forEach(function (c) { c.disabled = false; });
    }
    function markAnswer(box, node, text) {
      node.classList.add("is-answer");
      node.appendChild(el("span", "answer-tag", " " + text));
    }
    /* After a submission: each question marked, feedback shown, the result and a retry. */
    function review(moveFocus) {
      reviewing = true;
      var percent = score(), mark = tracker.passMark(quiz), left = tracker.attemptsLeft(quiz);
      var passed = percent >= mark;
      var over = tracker.quiz(quiz.id).best >= mark || left === 0;
      // `feedback: after-pass-or-last-attempt`: until then, the score alone.
      var hold = laterFeedback && !over;
      var list = $("[data-result-list]", result);
      var gradedCount = items.filter(function (i) { return i.q.points > 0; }).length, n = 0;
      list.textContent = "";
      items.forEach(function (i) {
        var q = i.q, box = i.el, r = getResponse(i), ok = isCorrect(q, r);
        clearMarks(box);
        $$("input, select, textarea, [data-move]", box).forEach(function (c) {
          c.disabled = true;
        });
        if (q.points === 0) { showExamples(); return; }
        if (hold) return;
        box.classList.add(ok ? "is-correct" : "is-incorrect");
        var verdict = ok ? T.correct : T.incorrect;
        var mark = el("p", "verdict " + (ok ? "verdict-ok" : "verdict-bad"),
          (ok ? "✓ " : "✗ ") + verdict);
        var legend = $("legend, .prompt", box);
        if (legend) legend.parentNode.insertBefore(mark, legend.nextSibling);
        var authored = $('[data-fb="' + (ok ? "correct" : "incorrect") + '"]', box);
        if (authored) authored.hidden = false;
        else $("[data-feedback]", box).appendChild(el("p", "fb-status", verdict + "."));
        if (q.type === "single-choice" || q.type === "multiple-response") {
          $$("input:checked", box).forEach(function (input) {
            var fb = $('[data-fb-option="' + input.value + '"]', box);
            if (fb) fb.hidden = false;
          });
          if (over && !ok) {
            q.correct.forEach(function (c) {
              var input = $('input[value="' + c + '"]', box);
              if (input) markAnswer(box, input.closest(".option"), T["correct.answer"]);
            });
          }
        } else if (q.type === "true-false" && over && !ok) {
          markAnswer(box, $('input[value="' + q.correct + '"]', box).closest(".option"),
            T["correct.answer"]);
        } else if (q.type === "matching") {
          $$("select[data-prompt]", box).forEach(function (s) {
            var p = s.getAttribute("data-prompt"), right = s.value === q.correct[p];
            var fb = $('[data-fb-option="' + p + '"]', box);
            if (fb && (right || over)) fb.hidden = false;
            if (over && !right) {
              var option = $('option[value="' + q.correct[p] + '"]', s);
              markAnswer(box, s.closest(".match"),
                T["correct.answer"] + ": " + (option ? option.textContent : ""));
            }
          });
        } else if (q.type === "sequencing" && over && !ok) {
          var right = q.correct.map(function (id) {
            return $('[data-step="' + id + '"] .step-text', box).textContent.trim();
          });
          $("[data-feedback]", box).appendChild(
            el("p", "fb-answer", T["correct.answer"] + ": " + right.join(" → ")));
        } else if (q.type === "fill-in" && over && !ok) {
          $("[data-feedback]", box).appendChild(
            el("p", "fb-answer", T["correct.answer"] + ": " + q.correct[0]));
        }
        var li = el("li");
        n += 1;
        var link = el("a", "", fmt("question", { n: n, total: gradedCount }));
        link.href = "#" + box.id;
        li.appendChild(link);
        li.insertBefore(document.createTextNode(ok ? "✓ " : "✗ "), link);
        li.appendChild(document.createTextNode(": " + verdict));
        list.appendChild(li);
      });
      // A practice check gives its score; only the assessment says whether it was passed.
      var summary = fmt("result.score", { score: percent });
      if (isAssessment || passed) {
        summary += " " + fmt(passed ? "result.passed" : "result.failed", { pass: mark });
      }
      var canRetry = left > 0 && percent < 100;
      if (canRetry && left !== Infinity) summary += " " + fmt("attempts.left", { n: left });
      if (!canRetry && !passed && isAssessment) summary += " " + T["attempts.none"];
      if (hold) summary += " " + T["feedback.later"];
      $("[data-result-summary]", result).textContent = summary;
      result.hidden = false;
      submit.hidden = true;
      if (retry) retry.hidden = !canRetry;
      if (moveFocus) focusOn($("[data-result-title]", result));
    }

    if (graded && tracker.quiz(quiz.id).review) review(false);
    else if (!graded && tracker.quiz(quiz.id).attempts) showExamples();
  }

  function hasAnswer(value) {
    if (value === undefined || value === null || value === "") return false;
    if (Array.isArray(value)) return value.length > 0;
    if (typeof value === "object") {
      return Object.keys(value).some(function (k) { return hasAnswer(value[k]); });
    }
    return true;
  }

  /* ::: reveal blocks open once their question has been answered (submitted or saved). */
  function openReveals() {
    $$(".reveal").forEach(function (box) {
      var qid = box.getAttribute("data-reveal-after");
      var quizId = qid ? quizOfQuestion[qid] : null;
      if (!qid) {
        var unit = course.units.filter(function (u) {
          return u.id === (box.closest("[data-unit]") || {}).id;
        })[0];
        quizId = unit && unit.quiz ? unit.quiz.id : null;
      }
      var open = quizId ? tracker.quiz(quizId).attempts > 0 : true;
      // Named question: only once that question itself was answered and submitted.
      if (open && qid) open = hasAnswer(tracker.answer(qid));
      box.classList.toggle("is-open", open);
    });
  }
  function afterChange() {
    openReveals();
    updateStatus();
  }

  /* ------------------------------------------------------------------ notes */
  /* A note marker opens the note right there (a disclosure: keyboard and screen readers
   * follow it in reading order); the list of notes stays, and the note jumped to is marked. */
  function setupNote(link) {
    var id = link.getAttribute("href").slice(1), item = document.getElementById(id);
    if (!item) return;
    var popId = "pop-" + id, pop = null;
    link.setAttribute("aria-expanded", "false");
    link.setAttribute("aria-controls", popId);
    function close(moveFocus) {
      if (!pop) return;
      pop.parentNode.removeChild(pop);
      pop = null;
      link.setAttribute("aria-expanded", "false");
      if (moveFocus) link.focus();
    }
    link.addEventListener("click", function (e) {
      e.preventDefault();
      if (pop) { close(true); return; }
      var n = link.textContent.replace(/[^0-9]/g, "");
      pop = el("span", "note-pop");
      pop.id = popId;
      pop.setAttribute("role", "group");
      pop.setAttribute("aria-label", fmt("note", { n: n }));
      pop.appendChild(el("span", "note-pop-label", fmt("note", { n: n })));
      var body = el("span", "note-pop-text");
      var source = $("p", item) || item;
      Array.prototype.forEach.call(source.childNodes, function (child) {
        if (child.nodeType === 1 && child.classList.contains("footnote-backref")) return;
        body.appendChild(child.cloneNode(true));
      });
      pop.appendChild(body);
      var actions = el("span", "note-pop-actions");
      var closeButton = el("button", "", T["note.close"]);
      closeButton.type = "button";
      closeButton.addEventListener("click", function () { close(true); });
      var all = el("a", "", T["note.open"]);
      all.href = "#" + id;
      actions.appendChild(closeButton);
      actions.appendChild(all);
      pop.appendChild(actions);
      pop.addEventListener("keydown", function (ev) {
        if (ev.key === "Escape") { ev.stopPropagation(); close(true); }
      });
      var sup = link.closest("sup") || link;
      sup.parentNode.insertBefore(pop, sup.nextSibling);
      link.setAttribute("aria-expanded", "true");
      closeButton.focus();
    });
  }
  $$(".footnote-ref a[href^='#']").forEach(setupNote);

  $$("form[data-quiz]").forEach(setupQuiz);
  afterChange();
  root.setAttribute("data-runtime", "ready");
})();
