// Tether portal: small progressive enhancements. Every page works without this file.
"use strict";
(function () {
  function ready(fn) {
    if (document.readyState !== "loading") { fn(); } else { document.addEventListener("DOMContentLoaded", fn); }
  }
  function enhance(root) {
    root.querySelectorAll("select.auto-submit").forEach(function (select) {
      select.addEventListener("change", function () { select.form.submit(); });
      var button = select.form.querySelector(".js-hide");
      if (button) { button.hidden = true; }
    });
    root.querySelectorAll("button.copy").forEach(function (button) {
      button.addEventListener("click", function () {
        var source = document.getElementById(button.dataset.copy);
        var text = source.value !== undefined ? source.value : source.textContent;
        navigator.clipboard.writeText(text.trim()).then(function () { button.textContent = "Copied"; });
      });
    });
    root.querySelectorAll("form[data-confirm]").forEach(function (form) {
      form.addEventListener("submit", function (event) {
        if (!window.confirm(form.dataset.confirm)) { event.preventDefault(); }
      });
    });
    root.querySelectorAll(".editor textarea").forEach(function (area) {
      var lines = area.parentElement.querySelector("ol.lines");
      if (!lines) { return; }
      var marked = new Set((area.dataset.marks || "").split(",").filter(Boolean).map(Number));
      function draw() {
        var count = area.value.split("\n").length;
        if (lines.children.length === count) { return; }
        lines.textContent = "";
        for (var i = 1; i <= count; i++) {
          var li = document.createElement("li");
          li.textContent = String(i);
          if (marked.has(i)) { li.className = "marked"; }
          lines.appendChild(li);
        }
      }
      area.addEventListener("input", draw);
      area.addEventListener("scroll", function () { lines.scrollTop = area.scrollTop; });
      draw();
    });
    root.querySelectorAll("a[data-line]").forEach(function (link) {
      link.addEventListener("click", function (event) {
        var area = document.getElementById(link.dataset.target);
        if (!area) { return; }
        event.preventDefault();
        var line = Number(link.dataset.line), text = area.value, start = 0;
        for (var i = 1; i < line; i++) { start = text.indexOf("\n", start) + 1; }
        var end = text.indexOf("\n", start);
        area.focus();
        area.setSelectionRange(start, end < 0 ? text.length : end);
      });
    });
  }
  ready(function () { enhance(document); });
  document.addEventListener("htmx:afterSwap", function (event) { enhance(event.target); });
})();
(function () {
  // Security tab: show only the fields of the chosen authentication type.
  function toggle(select) {
    document.querySelectorAll(".auth-section").forEach(function (section) {
      section.hidden = section.dataset.kind !== select.value;
    });
  }
  document.addEventListener("DOMContentLoaded", function () {
    document.querySelectorAll("select.shows-section").forEach(function (select) {
      select.addEventListener("change", function () { toggle(select); });
      toggle(select);
    });
  });
})();
