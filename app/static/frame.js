/* Inside the leadsieve iframe: tell the embedding page our height, and only that page. */
(function () {
  "use strict";
  var target = document.documentElement.getAttribute("data-parent-origin");
  if (!target || window.parent === window) return;
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
})();
