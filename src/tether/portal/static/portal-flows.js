// Tether portal, connections: follow the "continue to the provider" link at once. Without this
// file the user selects the link; nothing else depends on it.
"use strict";
(function () {
  function follow() {
    var link = document.querySelector("a.follow-now");
    if (link) { window.location.assign(link.href); }
  }
  if (document.readyState !== "loading") { follow(); } else { document.addEventListener("DOMContentLoaded", follow); }
})();
