/* Scoring page: while a re-score runs, poll its progress and show n of total (no reload). */
(function () {
  "use strict";
  var box = document.getElementById("rescore");
  if (!box || box.getAttribute("data-finished") === "1") { return; }
  var url = box.getAttribute("data-progress-url");
  function show(p) {
    ["status", "done", "total", "promoted", "suggested"].forEach(function (key) {
      var el = document.getElementById("rescore-" + key);
      if (el) { el.textContent = String(p[key]); }
    });
    if (p.finished) {
      box.setAttribute("data-finished", "1");
      var resume = document.getElementById("rescore-resume");
      if (resume) { resume.hidden = true; }
    } else {
      window.setTimeout(poll, 1500);
    }
  }
  function poll() {
    fetch(url, { credentials: "same-origin", headers: { "Accept": "application/json" } })
      .then(function (r) { return r.ok ? r.json() : null; })
      .then(function (p) { if (p) { show(p); } });
  }
  window.setTimeout(poll, 1000);
})();
