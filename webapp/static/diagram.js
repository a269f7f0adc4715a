// The instance page's diagram: bpmn-js's NavigatedViewer (served from /vendor/bpmn-js) draws the process's
// BPMN and marks the elements done, waiting and failed with the CSS classes completed / active / incident.
(function () {
  "use strict";
  var container = document.getElementById("diagram");
  var markersElement = document.getElementById("diagram-markers");
  if (!container || !markersElement) { return; }

  function fail() {
    container.classList.add("d-flex", "align-items-center", "justify-content-center", "text-muted");
    container.textContent = container.getAttribute("data-error-text") || "";
  }

  if (typeof window.BpmnJS !== "function" || typeof window.fetch !== "function") { fail(); return; }
  var markers = JSON.parse(markersElement.textContent);
  var viewer = new window.BpmnJS({ container: container });

  window.fetch(container.getAttribute("data-xml-url"), { credentials: "same-origin" })
    .then(function (response) {
      if (!response.ok) { throw new Error("HTTP " + response.status); }
      return response.text();
    })
    .then(function (xml) { return viewer.importXML(xml); })
    .then(function () {
      var canvas = viewer.get("canvas");
      var registry = viewer.get("elementRegistry");
      canvas.zoom("fit-viewport", "auto");
      ["completed", "active", "incident"].forEach(function (marker) {
        (markers[marker] || []).forEach(function (id) {
          if (registry.get(id)) { canvas.addMarker(id, marker); }
        });
      });
      container.setAttribute("data-rendered", "true");
    })
    .catch(fail);
})();
