// Every <select data-timezone>: a box above it that filters the places as one types, and
// the browser's own zone first (chosen too where data-timezone="prefill"). Without this
// script the select is a plain list grouped by region, and the server's value stays.
(function () {
  "use strict";

  var browserZone = Intl.DateTimeFormat().resolvedOptions().timeZone;

  function resolved(zone) {
    try {
      return new Intl.DateTimeFormat("en", { timeZone: zone }).resolvedOptions().timeZone;
    } catch (error) {
      return null;
    }
  }

  function browserOption(select) {
    var options = Array.prototype.slice.call(select.options);
    var exact = options.filter(function (option) { return option.value === browserZone; });
    if (exact.length) return exact[0];
    // Chromium reports some places by an older name (Asia/Calcutta for Asia/Kolkata):
    // the option whose zone the browser resolves to the same name is the one.
    return options.filter(function (option) { return resolved(option.value) === browserZone; })[0];
  }

  function putFirst(select) {
    var option = browserOption(select);
    if (!option) return;
    var group = document.createElement("optgroup");
    // The texts come from the page, in its language (congregations/timezones.py).
    group.label = select.dataset.deviceLabel || "Your device’s timezone";
    option.textContent = option.value.replace(/_/g, " ");
    group.appendChild(option);
    select.insertBefore(group, select.firstChild);
    if (select.dataset.timezone === "prefill") option.selected = true;
  }

  function addFilter(select) {
    var label = document.createElement("label");
    var box = document.createElement("input");
    box.type = "search";
    box.id = select.id + "_filter";
    box.autocomplete = "off";
    box.setAttribute("aria-controls", select.id);
    label.htmlFor = box.id;
    label.textContent = select.dataset.filterLabel || "Find your timezone: type a city or region";
    label.className = "filter-label";
    // A list rather than a drop-down, so what matches shows as one types.
    select.size = 6;
    select.parentNode.insertBefore(label, select);
    select.parentNode.insertBefore(box, select);

    box.addEventListener("input", function () {
      var words = box.value.trim().toLowerCase().replace(/\s+/g, "_");
      var first = null;
      Array.prototype.forEach.call(select.querySelectorAll("optgroup"), function (group) {
        var any = false;
        Array.prototype.forEach.call(group.querySelectorAll("option"), function (option) {
          var shown = !words || option.value.toLowerCase().indexOf(words) !== -1;
          option.hidden = !shown;
          if (shown) { any = true; first = first || option; }
        });
        group.hidden = !any;
      });
      Array.prototype.forEach.call(select.querySelectorAll(":scope > option"), function (option) {
        option.hidden = Boolean(words) && option.value.toLowerCase().indexOf(words) === -1;
        if (!option.hidden) first = first || option;
      });
      var chosen = select.options[select.selectedIndex];
      if (first && (!chosen || chosen.hidden)) first.selected = true;
    });
    box.addEventListener("keydown", function (event) {
      if (event.key === "ArrowDown") { event.preventDefault(); select.focus(); }
      if (event.key === "Enter") { event.preventDefault(); select.focus(); }
    });
  }

  Array.prototype.forEach.call(document.querySelectorAll("select[data-timezone]"), function (select) {
    putFirst(select);
    addFilter(select);
  });
})();
