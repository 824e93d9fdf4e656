// The transfer request form asks only what applies: questions about the importer's scope for
// its country and the source's regime, the Art. 9 / Art. 10 questions when such categories
// are chosen, the TIA when a mechanism is chosen, a derogation's conditions for that ground.
// Without JavaScript every question shows; the server ignores answers that do not apply.
(function () {
  "use strict";
  function selected(id) {
    var el = document.getElementById(id);
    return el && el.selectedIndex >= 0 ? el.options[el.selectedIndex] : null;
  }
  function data(option, name) {
    return option ? option.getAttribute("data-" + name) || "" : "";
  }
  function update(form) {
    var importer = selected("id_importer");
    var exporter = selected("id_exporter");
    var country = data(importer, "country");
    var importerJurisdiction = data(importer, "jurisdiction");
    var origin = data(selected("id_source_region"), "jurisdiction");
    // The category picker's ticked boxes say which are Art. 9 or Art. 10 data.
    var special = false, criminal = false;
    form.querySelectorAll('input[name="data_categories"]:checked').forEach(function (box) {
      special = special || box.getAttribute("data-special") === "art9";
      criminal = criminal || box.getAttribute("data-special") === "art10";
    });
    var derogation = (document.getElementById("id_derogation") || {}).value || "";
    var mechanism = (document.getElementById("id_chosen_mechanism") || {}).value || "";
    var when = {
      mechanism: !!mechanism,
      special: special,
      criminal: criminal,
      derogation: !!derogation,
      "outside-eea": !!exporter && exporter.value !== "" && data(exporter, "jurisdiction") !== "EEA",
    };
    form.querySelectorAll("[data-countries], [data-when], [data-derogations]").forEach(function (el) {
      var show = true;
      var countries = el.getAttribute("data-countries");
      if (countries !== null) {
        var list = countries.split(" ");
        show = list.indexOf("*") >= 0 ? !!country && importerJurisdiction !== origin : list.indexOf(country) >= 0;
        var origins = el.getAttribute("data-origins");
        if (show && origins) show = origins.split(" ").indexOf(origin) >= 0;
      }
      var condition = el.getAttribute("data-when");
      if (condition !== null) show = show && !!when[condition];
      var grounds = el.getAttribute("data-derogations");
      if (grounds !== null) show = show && grounds.split(" ").indexOf(derogation) >= 0;
      var row = el.closest(".field") || el.closest("tr");
      if (row) row.hidden = !show;
    });
  }
  document.addEventListener("DOMContentLoaded", function () {
    var form = document.querySelector('[data-testid="request-form"]');
    if (!form) return;
    form.addEventListener("change", function () { update(form); });
    update(form);
  });
})();
