/* Signpost embed: tell the page around this iframe how tall it is.
   Speaks WordPress' wp-embed message format: {message: "height", value, secret},
   the secret read from the "#?secret=" fragment the host appends.  Sets no
   cookies and no storage and loads nothing. */
(function () {
  "use strict";
  if (window.parent === window) return;
  var match = /[#?&]secret=([A-Za-z0-9]+)/.exec(window.location.hash);
  var secret = match ? match[1] : "";
  var last = 0;
  function send() {
    var height = Math.ceil(document.documentElement.getBoundingClientRect().height);
    if (height === last) return;
    last = height;
    window.parent.postMessage({ message: "height", value: height, secret: secret }, "*");
  }
  window.addEventListener("load", send);
  if (window.ResizeObserver) {
    new ResizeObserver(send).observe(document.documentElement);
  } else {
    window.addEventListener("resize", send);
  }
  /* WordPress sandboxes embeds without popups; it opens a link for us when asked. */
  if (secret) {
    document.addEventListener("click", function (event) {
      var link = event.target && event.target.closest ? event.target.closest("a[href]") : null;
      if (link && /^https?:$/.test(link.protocol)) {
        window.parent.postMessage({ message: "link", value: link.href, secret: secret }, "*");
      }
    });
  }
  send();
})();
