/* Admin: select-all and keyboard shortcuts for the screening queue (j/k move, x select, a approve, r reject). */
(function () {
  "use strict";
  var form = document.querySelector("form[data-queue]");
  if (!form) return;
  var all = form.querySelector("[data-select-all]");
  var boxes = function () { return Array.prototype.slice.call(form.querySelectorAll("input[name=ids]")); };
  if (all) all.addEventListener("change", function () { boxes().forEach(function (b) { b.checked = all.checked; }); });
  var rows = Array.prototype.slice.call(form.querySelectorAll("tr[data-row]"));
  var current = -1;
  function focusRow(index) {
    if (!rows.length) return;
    current = Math.max(0, Math.min(rows.length - 1, index));
    rows.forEach(function (r) { r.classList.remove("current"); });
    rows[current].classList.add("current");
    rows[current].focus();
  }
  function act(value) {
    if (current < 0) return;
    var selected = boxes().filter(function (b) { return b.checked; });
    if (!selected.length) rows[current].querySelector("input[name=ids]").checked = true;
    var button = form.querySelector('button[value="' + value + '"]');
    if (button) button.click();
  }
  document.addEventListener("keydown", function (event) {
    var tag = (event.target.tagName || "").toLowerCase();
    if (tag === "input" || tag === "select" || tag === "textarea" || event.metaKey || event.ctrlKey || event.altKey) return;
    if (event.key === "j") { focusRow(current + 1); event.preventDefault(); }
    else if (event.key === "k") { focusRow(current - 1); event.preventDefault(); }
    else if (event.key === "x" && current >= 0) { var b = rows[current].querySelector("input[name=ids]"); b.checked = !b.checked; }
    else if (event.key === "a") { act("approve"); }
    else if (event.key === "r") { act("reject"); }
  });
})();

/* Admin: the form editor's live preview (rendered by the server, shown in a shadow root so the public
   styles apply without leaking) and the embed panel's copy buttons. */
(function () {
  "use strict";
  var editor = document.getElementById("form-editor");
  var target = document.getElementById("form-preview");
  if (editor && target) {
    var root = target.attachShadow ? target.attachShadow({ mode: "open" }) : target;
    var timer = null;
    var refresh = function () {
      var body = new FormData(editor);
      fetch(editor.getAttribute("data-preview-url"), { method: "POST", body: body, credentials: "same-origin" })
        .then(function (r) { return r.ok ? r.text() : Promise.reject(r.status); })
        .then(function (html) {
          root.innerHTML = '<link rel="stylesheet" href="' + target.getAttribute("data-stylesheet") + '">' + html;
          target.setAttribute("data-ready", "1");
        })
        .catch(function () { /* keep the last preview */ });
    };
    var later = function () { clearTimeout(timer); timer = setTimeout(refresh, 250); };
    editor.addEventListener("input", later);
    editor.addEventListener("change", later);
    refresh();
  }
  // Fields that belong to one destination kind (the Salesforce oid) show only when that kind is chosen.
  var kind = document.getElementById("kind");
  var only = document.querySelectorAll("[data-kind-only]");
  if (kind && only.length) {
    var showKind = function () {
      Array.prototype.forEach.call(only, function (el) { el.hidden = el.getAttribute("data-kind-only") !== kind.value; });
    };
    kind.addEventListener("change", showKind);
    showKind();
  }
  Array.prototype.forEach.call(document.querySelectorAll("[data-copy]"), function (button) {
    button.addEventListener("click", function () {
      var field = document.getElementById(button.getAttribute("data-copy"));
      var done = function () { var t = button.textContent; button.textContent = "Copied"; setTimeout(function () { button.textContent = t; }, 1500); };
      if (navigator.clipboard && navigator.clipboard.writeText) navigator.clipboard.writeText(field.value).then(done, function () { field.select(); });
      else { field.select(); document.execCommand && document.execCommand("copy"); done(); }
    });
  });
})();
