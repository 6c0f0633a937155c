/* Inside the leadsieve iframe: tell the embedding page our height, and take the page's context
   (UTM, click ids, page URL, referrer) from it by postMessage, only from that page. The frame is
   never reloaded for the context, so nothing a visitor typed is lost. */
(function () {
  "use strict";
  var target = document.documentElement.getAttribute("data-parent-origin");
  if (!target || window.parent === window) return;
  // The server names the fields (forms.CONTEXT_FIELDS and the click ids in app/capture/routes.py).
  var FIELDS = (document.documentElement.getAttribute("data-context-fields") || "").split(" ");
  // Contact fields the host page's URL may prefill (PREFILL_FIELDS): only inputs the form shows, if empty.
  var PREFILL = (document.documentElement.getAttribute("data-prefill-fields") || "").split(" ");

  // An allowed field: an empty text field, a hidden one's default, an unanswered choice, a box to tick.
  function prefill(form, name, value) {
    var input = form.elements[name], text = value.replace(/\s+/g, " ").trim();
    if (!input) return;
    if (input.length && !input.options) {  // a group: only when nothing is chosen yet
      if ([].some.call(input, function (o) { return o.checked; })) return;
      [].forEach.call(input, function (option) { option.checked = option.value === text; });
    } else if (input.type === "checkbox") {
      if (/^(1|y|yes|true|on)$/i.test(text)) input.checked = true;
    } else if (input.options) {
      if (!input.value && [].some.call(input.options, function (o) { return o.value === text; })) input.value = text;
    } else if (!input.value || input.type === "hidden") {
      input.value = text.slice(0, input.maxLength > 0 ? input.maxLength : 200);
    }
  }

  function setField(form, name, value) {
    var input = form.elements[name];
    if (!input) {
      input = document.createElement("input");
      input.type = "hidden";
      input.name = name;
      form.appendChild(input);
    }
    if (!input.value) input.value = value.slice(0, name === "page_url" || name === "referrer" ? 2048 : 200);
  }

  window.addEventListener("message", function (event) {
    if (event.source !== window.parent || event.origin !== target) return;
    var data = event.data;
    if (!data || data.type !== "leadsieve:context" || !data.fields || typeof data.fields !== "object") return;
    Array.prototype.forEach.call(document.querySelectorAll("form[data-leadsieve-form]"), function (form) {
      FIELDS.forEach(function (name) {
        if (typeof data.fields[name] === "string" && data.fields[name]) setField(form, name, data.fields[name]);
      });
      var values = data.prefill && typeof data.prefill === "object" ? data.prefill : {};
      PREFILL.forEach(function (name) {
        if (name && typeof values[name] === "string" && values[name]) prefill(form, name, values[name]);
      });
    });
    last = 0;  // the host script may have missed our first height: say it again
    send();
  });

  var last = 0;
  function send() {
    var height = Math.ceil(document.documentElement.getBoundingClientRect().height);
    if (height === last) return;
    last = height;
    window.parent.postMessage({ type: "leadsieve:height", height: height }, target);
  }
  if (window.ResizeObserver) new ResizeObserver(send).observe(document.documentElement);
  window.addEventListener("load", send);
  send();
  // embed.js may have started before this document existed: ask it for the context now.
  window.parent.postMessage({ type: "leadsieve:ready" }, target);
})();
