/* Signpost widget: <signpost-directory filters="kind=group&near=LS6"></signpost-directory>
   Renders a sandboxed iframe of this node's /embed page and keeps it as tall as its
   content.  No cookies, no storage, nothing loaded from anywhere but the node. */
(function () {
  "use strict";
  if (!window.customElements || window.customElements.get("signpost-directory")) return;
  var script = document.currentScript;
  var origin = script ? new URL(script.src, document.baseURI).origin : "";
  var SANDBOX = "allow-scripts allow-popups allow-popups-to-escape-sandbox";

  function secret() {
    var bytes = new Uint8Array(8);
    window.crypto.getRandomValues(bytes);
    return Array.prototype.map.call(bytes, function (b) { return ("0" + b.toString(16)).slice(-2); }).join("");
  }

  function clean(filters) {
    var out = new URLSearchParams();
    new URLSearchParams(filters || "").forEach(function (value, key) {
      if (/^(q|near|within|kind|topic|delivery|free|publisher)$/.test(key)) out.append(key, value);
    });
    return out.toString();
  }

  var frames = [];
  window.addEventListener("message", function (event) {
    var data = event.data;
    if (!data || data.message !== "height" || typeof data.secret !== "string") return;
    for (var i = 0; i < frames.length; i++) {
      var frame = frames[i];
      if (frame.contentWindow === event.source && frame.getAttribute("data-secret") === data.secret) {
        var height = Math.max(120, Math.min(4000, parseInt(data.value, 10) || 0));
        frame.style.height = height + "px";
      }
    }
  });

  class SignpostDirectory extends HTMLElement {
    static get observedAttributes() { return ["filters"]; }
    connectedCallback() { this.render(); }
    attributeChangedCallback() { if (this.isConnected) this.render(); }
    render() {
      var query = clean(this.getAttribute("filters"));
      var key = secret();
      var frame = document.createElement("iframe");
      frame.setAttribute("src", origin + "/embed" + (query ? "?" + query : "") + "#?secret=" + key);
      frame.setAttribute("data-secret", key);
      frame.setAttribute("title", this.getAttribute("title") || "Peer support listings");
      frame.setAttribute("sandbox", SANDBOX);
      frame.setAttribute("referrerpolicy", "no-referrer");
      frame.setAttribute("loading", "lazy");
      frame.style.cssText = "display:block;width:100%;height:640px;border:0;max-width:100%";
      while (this.firstChild) this.removeChild(this.firstChild);
      this.appendChild(frame);
      frames = frames.filter(function (f) { return f.isConnected; });
      frames.push(frame);
    }
  }
  window.customElements.define("signpost-directory", SignpostDirectory);
})();
