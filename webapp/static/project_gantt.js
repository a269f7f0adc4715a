// The project's Gantt chart (read-only) with frappe-gantt from <script type="application/json" id="gantt-data">
// (erp.projects.queries.gantt: phases, work packages, tasks and milestones). No inline script (CSP).
(function () {
  "use strict";
  var source = document.getElementById("gantt-data");
  var target = document.getElementById("gantt");
  if (!window.Gantt || !source || !target) { return; }
  var bars = JSON.parse(source.textContent);
  if (!bars.length) { return; }
  var tasks = bars.map(function (bar) {
    return { id: bar.id, name: bar.name, start: bar.start, end: bar.end, progress: bar.progress,
             dependencies: bar.dependencies.join(","), custom_class: "bar-" + bar.kind };
  });
  var lang = (document.documentElement.lang || "en").slice(0, 2);
  new window.Gantt(target, tasks, {
    readonly: true, view_mode: target.getAttribute("data-view-mode") || "Week", language: lang,
    today_button: false, scroll_to: "start", popup_on: "click", infinite_padding: false
  });
})();
