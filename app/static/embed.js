/*! leadsieve embed.js: upgrades plain leadsieve forms in place; sizes leadsieve iframes.
 * The snippet's form works without this file (it posts to the hosted thank-you page);
 * with it, the form submits with fetch, shows errors inline and thanks in place.
 * Standard APIs only, no dependencies. */
(function () {
  "use strict";
  if (window.leadsieveEmbed) return;
  window.leadsieveEmbed = true;

  var CONTEXT = ["utm_source", "utm_medium", "utm_campaign", "utm_term", "utm_content",
    "gclid", "fbclid", "msclkid", "li_fat_id", "ttclid", "wbraid", "gbraid"];
  // What the URL may prefill (or the form's data-leadsieve-prefill): empty fields, never consent.
  var PREFILL = ["email", "first_name", "last_name", "company", "job_title", "phone", "country"];
  var THEME = { accent: "--ls-accent", text: "--ls-text", background: "--ls-background",
    font: "--ls-font", radius: "--ls-radius", error: "--ls-error" };
  var CSS = ":host{display:block;color:var(--ls-text,#1c1f24);font:16px/1.5 var(--ls-font,system-ui,sans-serif)}" +
    "form{background:var(--ls-background,transparent)}" +
    ".field{margin:0 0 1rem}label{display:block;font-weight:600;margin:0 0 .25rem}" +
    "input[type=text],input[type=email],input[type=tel],textarea,select{box-sizing:border-box;width:100%;" +
    "padding:.6rem .7rem;font:inherit;border:1px solid #b8bfcc;border-radius:var(--ls-radius,8px)}" +
    "textarea{min-height:6rem}.checkbox{display:flex;gap:.5rem;flex-wrap:wrap}.checkbox label{font-weight:400;flex:1}" +
    "button{background:var(--ls-accent,#2454d6);color:#fff;border:0;border-radius:var(--ls-radius,8px);" +
    "padding:.7rem 1.2rem;font:inherit;font-weight:600;cursor:pointer}button[disabled]{opacity:.6}" +
    ":focus-visible{outline:3px solid var(--ls-accent,#2454d6);outline-offset:1px}" +
    "[aria-invalid=true]{border-color:var(--ls-error,#b3261e)!important}" +
    ".ls-error{color:var(--ls-error,#b3261e);margin:.25rem 0 0;font-size:.95rem}" +
    ".hp{position:absolute;inset-inline-start:-10000px;width:1px;height:1px;overflow:hidden}" +
    ".ls-thanks a{color:var(--ls-accent,#2454d6);font-weight:600}";

  function safeUrl(value) {
    try {
      var url = new URL(value, location.href);
      return url.protocol === "https:" || url.protocol === "http:" ? url.href : null;
    } catch (e) { return null; }
  }

  function setField(form, name, value) {
    if (!value) return;
    var input = form.querySelector('input[name="' + name + '"]');
    if (!input) {
      input = document.createElement("input");
      input.type = "hidden";
      input.name = name;
      form.appendChild(input);
    }
    if (!input.value || name === "token") input.value = value;
  }

  function queryValues(names) {
    var values = {};
    new URLSearchParams(location.search).forEach(function (v, k) { if (v && (!names || names.indexOf(k) >= 0)) values[k] = v; });
    return values;
  }

  function prefill(form, values) {
    Object.keys(values).forEach(function (name) {
      var v = values[name].replace(/\s+/g, " ").trim(), el = form.elements[name];
      if (el && (!el.value || el.type == "hidden") && (!el.options || [].some.call(el.options, function (o) { return o.value == v; })))
        el.value = v.slice(0, el.maxLength > 0 ? el.maxLength : 200);
    });
  }

  function fillContext(form) {
    var params = new URLSearchParams(location.search);
    CONTEXT.forEach(function (name) { setField(form, name, (params.get(name) || "").slice(0, 200)); });
    setField(form, "page_url", location.href.slice(0, 2048));
    setField(form, "referrer", document.referrer.slice(0, 2048));
    setField(form, "page_title", document.title.slice(0, 200));
    // HubSpot's visitor cookie on the host page, so the CRM joins this contact to its page views.
    setField(form, "hutk", (document.cookie.match(/(?:^|; )hubspotutk=([0-9a-f]{32})/) || [])[1]);
    var own = form.getAttribute("data-leadsieve-prefill");
    prefill(form, queryValues(own === null ? PREFILL : own.split(" ")));
  }

  function clearErrors(form) {
    Array.prototype.forEach.call(form.querySelectorAll(".ls-error"), function (el) { el.remove(); });
    Array.prototype.forEach.call(form.querySelectorAll("[aria-invalid=true]"), function (el) {
      el.setAttribute("aria-invalid", "false");
      el.removeAttribute("aria-describedby");
    });
  }

  function showErrors(form, fields) {
    var first = null;
    Object.keys(fields).forEach(function (name) {
      var input = form.querySelector('[name="' + name + '"]');
      var message = document.createElement("p");
      message.className = "ls-error";
      message.textContent = [].concat(fields[name]).join(" ");
      if (!input) { form.insertBefore(message, form.firstChild); return; }
      message.id = "ls-" + form.getAttribute("data-leadsieve-form") + "-" + name + "-error";
      input.setAttribute("aria-invalid", "true");
      input.setAttribute("aria-describedby", message.id);
      var container = input.closest(".field") || input.parentNode;
      container.appendChild(message);
      first = first || input;
    });
    if (first) first.focus();
  }

  // The token's answer speaks the visitor's language: labels, choices, button, direction, our messages.
  function localise(form, d) {
    if (!d.lang) return;
    form.lang = d.lang;
    form.dir = d.dir === "rtl" ? "rtl" : "ltr";
    form.lsText = d.messages || {};
    each(d.labels, function (name, text) {
      var input = form.querySelector('[name="' + name + '"]');
      var label = input && input.id && form.querySelector('label[for="' + input.id + '"]');
      if (label && label.firstChild) label.firstChild.nodeValue = text + (label.firstElementChild ? " " : "");
    });
    each(d.choices, function (name, texts) {
      var select = form.querySelector('select[name="' + name + '"]');
      if (select) each(select.options, function (i, o) { if (texts[o.value]) o.textContent = texts[o.value]; });
    });
    var button = form.querySelector("[type=submit]");
    if (button && d.button) button.textContent = d.button;
  }

  function each(map, fn) { Object.keys(map || {}).forEach(function (k) { fn(k, map[k]); }); }

  function say(form, key, fallback) { return (form.lsText || {})[key] || fallback; }

  function thank(form, data) {
    var redirect = data.redirect_url && safeUrl(data.redirect_url);
    if (redirect) { location.href = redirect; return; }
    var box = document.createElement("div");
    box.className = "ls-thanks";
    box.setAttribute("role", "status");
    if (form.lang) { box.lang = form.lang; box.dir = form.dir; }
    var text = document.createElement("p");
    text.textContent = data.message || say(form, "thanks", "Thank you!");
    box.appendChild(text);
    // The server's links are absolute: a relative one would resolve against the host site.
    [[data.asset_url, say(form, "download", "Download your copy")],
      [data.calendar_url, say(form, "calendar", "Add to calendar"), 1]].forEach(function (a) {
      var href = a[0] && safeUrl(a[0]), link = document.createElement("a");
      if (!href) return;
      link.href = href;
      link.textContent = a[1];
      if (a[2]) link.download = "";
      box.append(" ", link);
    });
    form.replaceWith(box);
  }

  function submit(form) {
    clearErrors(form);
    var button = form.querySelector("[type=submit]");
    if (button) button.disabled = true;
    fetch(form.action, { method: "POST", body: new URLSearchParams(new FormData(form)),
      credentials: "omit", headers: { Accept: "application/json" } })
      .then(function (response) {
        return response.json().then(function (data) { return { status: response.status, data: data }; });
      })
      .then(function (result) {
        if (button) button.disabled = false;
        if (result.status === 202) return thank(form, result.data);
        if (result.status === 400 && result.data.fields) return showErrors(form, result.data.fields);
        showErrors(form, { _form: result.data.message || say(form, "failed", "Something went wrong. Please try again.") });
      })
      .catch(function () {
        // The request never got an answer we can read: post the plain form instead, so no lead is lost.
        form.submit();
      });
  }

  function upgrade(form) {
    var host = document.createElement("div");
    host.className = "leadsieve-host";
    Object.keys(THEME).forEach(function (key) {
      if (form.dataset[key]) host.style.setProperty(THEME[key], form.dataset[key]);
    });
    form.parentNode.insertBefore(host, form);
    var root = host.attachShadow ? host.attachShadow({ mode: "open" }) : host;
    var style = document.createElement("style");
    style.textContent = CSS;
    root.appendChild(style);
    root.appendChild(form);
    var button = form.querySelector("[type=submit]");
    if (button && form.dataset.buttonText) button.textContent = form.dataset.buttonText;
    // The server's messages, shown inline, replace the browser's own bubbles.
    form.noValidate = true;
    form.addEventListener("submit", function (event) { event.preventDefault(); submit(form); });
    form.setAttribute("data-leadsieve-ready", "true");
  }

  function enhance(form) {
    if (form.hasAttribute("data-leadsieve-seen")) return;
    form.setAttribute("data-leadsieve-seen", "true");
    fillContext(form);
    var tokenUrl = form.action.split("?")[0].replace(/\/$/, "") + "/token";
    fetch(tokenUrl, { credentials: "omit", headers: { Accept: "application/json" } })
      .then(function (response) { if (!response.ok) throw new Error(response.status); return response.json(); })
      .then(function (data) { setField(form, "token", data.token); localise(form, data); upgrade(form); })
      .catch(function () { /* Not allowed from this origin, or offline: the plain form still posts. */ });
  }

  function pageContext() {
    var params = new URLSearchParams(location.search);
    var fields = { page_url: location.href.slice(0, 2048), referrer: document.referrer.slice(0, 2048) };
    CONTEXT.forEach(function (name) { if (params.get(name)) fields[name] = params.get(name).slice(0, 200); });
    return fields;
  }

  function frameOrigin(frame) { return new URL(frame.src, location.href).origin; }

  // The frame takes the context by message (it asks when it loads, and is told at start in case it
  // already has): reloading it with the context in its URL would lose what the visitor typed.
  function tellFrame(frame) {
    if (frame.contentWindow) {
      frame.contentWindow.postMessage(
        { type: "leadsieve:context", fields: pageContext(), prefill: queryValues() }, frameOrigin(frame));
    }
  }

  function frames() { return document.querySelectorAll("iframe[data-leadsieve-frame]"); }

  window.addEventListener("message", function (event) {
    var data = event.data;
    if (!data || typeof data.type !== "string") return;
    Array.prototype.forEach.call(frames(), function (frame) {
      if (frame.contentWindow !== event.source || frameOrigin(frame) !== event.origin) return;
      if (data.type === "leadsieve:ready") tellFrame(frame);
      if (data.type === "leadsieve:height" && typeof data.height === "number") {
        frame.style.height = Math.max(80, Math.min(data.height, 6000)) + "px";
      }
    });
  });

  function start() {
    Array.prototype.forEach.call(document.querySelectorAll("form[data-leadsieve-form]"), enhance);
    Array.prototype.forEach.call(frames(), tellFrame);
  }
  if (document.readyState === "loading") document.addEventListener("DOMContentLoaded", start);
  else start();
})();
