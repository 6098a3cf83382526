/* mock-servicenow: the pages' one script (issue 16). Everything works without it; it adds
   the navigator filter (and its "<table>.list" / "<table>.form" shortcuts, as on the
   platform), the confirmation before Delete, and closes the user menu on an outside click. */
(function () {
  "use strict";

  function filterNavigator(input) {
    var text = input.value.trim().toLowerCase();
    var apps = document.querySelectorAll(".sn-app");
    var shown = 0;
    apps.forEach(function (app) {
      var details = app.querySelector("details");
      var title = (app.getAttribute("data-title") || "").toLowerCase();
      var titleMatches = text === "" || title.indexOf(text) !== -1;
      var any = false;
      app.querySelectorAll(".sn-module, .sn-separator").forEach(function (item) {
        var isModule = item.classList.contains("sn-module");
        var match = text === "" || titleMatches ||
          (isModule && item.textContent.toLowerCase().indexOf(text) !== -1);
        item.hidden = !match || (!isModule && text !== "" && !titleMatches);
        if (match && isModule) { any = true; }
      });
      app.hidden = !any;
      if (any) {
        shown += 1;
        if (details && text !== "") { details.open = true; }
      }
    });
    var empty = document.getElementById("nav_empty");
    if (empty) { empty.hidden = shown !== 0; }
  }

  function shortcut(input) {
    /* "incident.list" opens the list, "incident.form" a new record (the platform's filter). */
    var match = /^([a-z0-9_]+)\.(list|form|do)$/.exec(input.value.trim().toLowerCase());
    if (!match) { return false; }
    window.location.href = match[2] === "list" ? "/" + match[1] + "_list.do"
      : "/" + match[1] + ".do?sys_id=-1";
    return true;
  }

  document.addEventListener("DOMContentLoaded", function () {
    var filter = document.getElementById("filter");
    if (filter) {
      filter.addEventListener("input", function () { filterNavigator(filter); });
      filter.addEventListener("keydown", function (event) {
        if (event.key !== "Enter") { return; }
        if (shortcut(filter)) { event.preventDefault(); return; }
        var first = document.querySelector(".sn-app:not([hidden]) .sn-module:not([hidden]) a");
        if (first) { event.preventDefault(); window.location.href = first.getAttribute("href"); }
      });
      filterNavigator(filter);
    }
    document.querySelectorAll("[data-confirm]").forEach(function (button) {
      button.addEventListener("click", function (event) {
        if (!window.confirm(button.getAttribute("data-confirm"))) { event.preventDefault(); }
      });
    });
    document.addEventListener("click", function (event) {
      document.querySelectorAll("details.sn-user-menu[open]").forEach(function (menu) {
        if (!menu.contains(event.target)) { menu.open = false; }
      });
    });
  });
}());
