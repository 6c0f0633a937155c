// reCAPTCHA v3: fetch a token when the visitor submits (tokens expire after two minutes), put it in the
// hidden g-recaptcha-response field, then post the form. The worker verifies it, not the request.
(function () {
  "use strict";
  document.querySelectorAll("input[data-recaptcha-sitekey]").forEach(function (input) {
    var form = input.form;
    var key = input.getAttribute("data-recaptcha-sitekey");
    if (!form || !key) return;
    form.addEventListener("submit", function (event) {
      if (input.value || typeof grecaptcha === "undefined") return; // no script: post without, screening holds it
      event.preventDefault();
      grecaptcha.ready(function () {
        grecaptcha.execute(key, { action: "submit" }).then(function (token) {
          input.value = token;
          form.requestSubmit ? form.requestSubmit() : form.submit();
        }, function () { form.submit(); });
      });
    });
  });
})();
