// The category picker: type to narrow the list; the chosen ones are summed up above it.
(function () {
  function setup(picker) {
    var search = picker.querySelector("[data-picker-search]");
    var summary = picker.querySelector("[data-picker-chosen]");
    var items = Array.prototype.slice.call(picker.querySelectorAll("[data-picker-item]"));
    var groups = Array.prototype.slice.call(picker.querySelectorAll("[data-picker-group]"));
    function narrow() {
      var words = search.value.toLowerCase().split(/\s+/).filter(Boolean);
      items.forEach(function (item) {
        var text = item.getAttribute("data-search");
        var box = item.querySelector("input");
        var show = box.checked || words.every(function (w) { return text.indexOf(w) !== -1; });
        item.hidden = !show;
      });
      groups.forEach(function (group) {
        group.hidden = !group.querySelector("[data-picker-item]:not([hidden])");
      });
    }
    function sum() {
      var chosen = items.map(function (i) { return i.querySelector("input"); }).filter(function (b) { return b.checked; });
      var special = chosen.filter(function (b) { return b.hasAttribute("data-special"); });
      summary.textContent = chosen.length
        ? chosen.length + " chosen: " + chosen.map(function (b) { return b.getAttribute("data-name"); }).join(", ") +
          (special.length ? ". Includes " + special.length + " special (Art. 9/10): a DPO must look closely." : ".")
        : "None chosen yet.";
    }
    search.addEventListener("input", narrow);
    picker.addEventListener("change", sum);
    sum();
  }
  function init() { document.querySelectorAll("[data-picker]").forEach(setup); }
  if (document.readyState === "loading") { document.addEventListener("DOMContentLoaded", init); } else { init(); }
})();
