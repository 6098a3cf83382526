/* The control-plane dashboard (issue 16): every value shown and every action taken goes
   through the control plane's JSON API, the same one scripts and the CLI use. Text from the
   API is always inserted as text (journal paths come from arbitrary clients). */
(function () {
  "use strict";

  var statusLine = document.getElementById("dashboard_status");

  function say(text, failed) {
    statusLine.textContent = text;
    statusLine.className = "sn-status" + (failed ? " sn-failed" : "");
  }

  function api(method, path, body) {
    var options = {method: method, headers: {"Accept": "application/json"}};
    if (body !== undefined) {
      options.headers["Content-Type"] = "application/json";
      options.body = JSON.stringify(body);
    }
    return fetch("/_emulator/" + path, options).then(function (response) {
      return response.text().then(function (text) {
        var data = null;
        try { data = text ? JSON.parse(text) : null; } catch (ignored) { data = null; }
        if (!response.ok) {
          var error = data && data.error ? (data.error.detail || data.error.message) : "";
          throw new Error(method + " /_emulator/" + path + ": HTTP " + response.status +
                          (error ? " " + error : ""));
        }
        return data;
      });
    });
  }

  function element(tag, text, className) {
    var node = document.createElement(tag);
    if (text !== undefined && text !== null) { node.textContent = String(text); }
    if (className) { node.className = className; }
    return node;
  }

  function button(text, handler, className) {
    var node = element("button", text, "sn-button" + (className ? " " + className : ""));
    node.type = "button";
    node.addEventListener("click", handler);
    return node;
  }

  function row(cells) {
    var tr = document.createElement("tr");
    cells.forEach(function (cell) {
      var td = document.createElement("td");
      if (cell instanceof Node) { td.appendChild(cell); } else { td.textContent = cell; }
      tr.appendChild(td);
    });
    return tr;
  }

  function keyValues(table, pairs) {
    table.replaceChildren();
    pairs.forEach(function (pair) {
      var tr = document.createElement("tr");
      tr.appendChild(element("th", pair[0]));
      var td = element("td", pair[1]);
      td.id = pair[2] || "";
      tr.appendChild(td);
      table.appendChild(tr);
    });
  }

  function failed(error) { say(error.message, true); }

  /* --- instance and clock ------------------------------------------------------------ */
  function showClock(clock) {
    keyValues(document.getElementById("clock_info"), [
      ["Now (UTC)", clock.now, "clock_now"],
      ["Frozen", clock.frozen ? "yes" : "no", "clock_frozen"],
      ["Offset from real time", clock.offset_seconds + " s", "clock_offset"]
    ]);
  }

  function loadInfo() {
    return api("GET", "info").then(function (info) {
      keyValues(document.getElementById("instance_info"), [
        ["Name", info.instance_name], ["Release", info.release], ["Build", info.build],
        ["Database", info.database], ["Seed", info.seed],
        ["Scenarios applied", (info.scenarios || []).join(", ") || "none", "applied_scenarios"],
        ["Process", info.pid]
      ]);
      var counts = document.getElementById("table_counts");
      counts.replaceChildren();
      Object.keys(info.tables || {}).sort().forEach(function (name) {
        var tr = document.createElement("tr");
        tr.appendChild(element("th", name));
        tr.appendChild(element("td", info.tables[name]));
        counts.appendChild(tr);
      });
      showClock(info.clock);
    });
  }

  function clock(body, done) {
    return api("POST", "clock", body).then(function (state) {
      showClock(state);
      say(done + ": the instance clock is " + state.now + " UTC");
    }).catch(failed);
  }

  /* --- scenarios --------------------------------------------------------------------- */
  function applyScenario(name, fix) {
    api("POST", "scenarios/" + encodeURIComponent(name), {fix: fix}).then(function (result) {
      say((fix ? "Fix applied: " : "Applied: ") + name + ". Active: " +
          ((result.active || []).join(", ") || "none"));
      return Promise.all([loadScenarios(), loadInfo()]);
    }).catch(failed);
  }

  function loadScenarios() {
    return api("GET", "scenarios").then(function (data) {
      var body = document.querySelector("#scenarios tbody");
      body.replaceChildren();
      data.scenarios.forEach(function (scenario) {
        var about = document.createElement("div");
        about.appendChild(element("div", scenario.title));
        var steps = element("details");
        steps.appendChild(element("summary", "Documented fix"));
        var list = document.createElement("ol");
        (scenario.fix.steps || []).forEach(function (step) { list.appendChild(element("li", step)); });
        steps.appendChild(list);
        about.appendChild(steps);
        var symptom = Object.keys(scenario.symptom || {}).map(function (key) {
          return key + ": " + scenario.symptom[key];
        }).join("\n");
        var state = element("span", scenario.applied ? "applied" : "not applied",
                            "sn-badge" + (scenario.applied ? " sn-on" : ""));
        var actions = document.createElement("div");
        actions.className = "sn-actions";
        actions.appendChild(button("Apply", function () { applyScenario(scenario.name, false); }, "sn-primary"));
        actions.appendChild(button("Fix", function () { applyScenario(scenario.name, true); }));
        var tr = row([element("code", scenario.name), about, element("div", symptom, "sn-muted sn-pre"),
                      state, actions]);
        tr.setAttribute("data-scenario", scenario.name);
        body.appendChild(tr);
      });
    });
  }

  /* --- faults ------------------------------------------------------------------------ */
  function loadFaults() {
    return api("GET", "faults").then(function (data) {
      var body = document.querySelector("#faults tbody");
      body.replaceChildren();
      if (!data.faults.length) {
        var empty = row(["No fault rules: every request is answered normally."]);
        empty.firstChild.colSpan = 6;
        body.appendChild(empty);
      }
      data.faults.forEach(function (rule) {
        var detail = rule.action + (rule.status ? " " + rule.status : "") +
          (rule.seconds !== undefined ? " " + rule.seconds + " s" : "");
        var remove = button("Remove", function () {
          api("DELETE", "faults/" + rule.id).then(function () {
            say("Fault " + rule.id + " removed");
            return loadFaults();
          }).catch(failed);
        });
        var tr = row([String(rule.id), rule.method, element("code", rule.path), detail,
                      rule.times === null || rule.times === undefined ? "until removed" : String(rule.times),
                      remove]);
        tr.setAttribute("data-fault", String(rule.id));
        body.appendChild(tr);
      });
    });
  }

  function addFault(event) {
    event.preventDefault();
    var action = document.getElementById("fault_action").value;
    var value = document.getElementById("fault_value").value;
    var rule = {method: document.getElementById("fault_method").value,
                path: document.getElementById("fault_path").value, action: action};
    if (action === "status" && value) { rule.status = Number(value); }
    if (action === "latency" && value) { rule.seconds = Number(value); }
    if (action === "rate_limit" && value) { rule.retry_after = Number(value); }
    var times = document.getElementById("fault_times").value;
    if (times) { rule.times = Number(times); }
    api("POST", "faults", rule).then(function (created) {
      say("Fault " + created.id + " added: " + created.method + " " + created.path + " " + created.action);
      return loadFaults();
    }).catch(failed);
  }

  /* --- isolated instances ------------------------------------------------------------ */
  function loadInstances() {
    return api("GET", "instances").then(function (data) {
      var body = document.querySelector("#instances tbody");
      body.replaceChildren();
      data.instances.forEach(function (entry) {
        var link = element("a", entry.base_url);
        link.href = entry.base_url + "/";
        var action = entry["default"] ? element("span", "default", "sn-badge") :
          button("Delete", function () {
            if (!window.confirm("Delete the instance " + entry.name + " and its database?")) { return; }
            api("DELETE", "instances/" + encodeURIComponent(entry.name)).then(function () {
              say("Instance " + entry.name + " deleted");
              return loadInstances();
            }).catch(failed);
          }, "sn-danger");
        body.appendChild(row([entry.name, link, entry.database, action]));
      });
    });
  }

  function createInstance(event) {
    event.preventDefault();
    var input = document.getElementById("instance_name_input");
    api("POST", "instances", {name: input.value.trim()}).then(function (created) {
      say("Instance " + created.name + " created at " + created.base_url);
      input.value = "";
      return loadInstances();
    }).catch(failed);
  }

  /* --- journal ----------------------------------------------------------------------- */
  function loadJournal() {
    return api("GET", "journal?limit=50").then(function (data) {
      var body = document.querySelector("#journal tbody");
      body.replaceChildren();
      data.entries.slice().reverse().forEach(function (entry) {
        body.appendChild(row([entry.at, entry.method, entry.path, entry.query,
                              String(entry.status), String(entry.duration_ms), entry.user || ""]));
      });
      document.getElementById("journal_count").textContent = String(data.entries.length);
    });
  }

  document.addEventListener("DOMContentLoaded", function () {
    document.getElementById("reset_instance").addEventListener("click", function () {
      if (!window.confirm("Reset the instance to its seeded state? Every change is lost.")) { return; }
      api("POST", "reset").then(function (result) {
        say("Instance reset in " + result.elapsed_ms + " ms");
        return Promise.all([loadInfo(), loadScenarios(), loadFaults(), loadJournal()]);
      }).catch(failed);
    });
    document.getElementById("clock_freeze").addEventListener("click", function () {
      var at = document.getElementById("freeze_at").value.trim();
      clock(at ? {action: "freeze", at: at} : {action: "freeze"}, "Frozen");
    });
    document.getElementById("clock_unfreeze").addEventListener("click", function () {
      clock({action: "unfreeze"}, "Unfrozen");
    });
    document.getElementById("clock_advance").addEventListener("click", function () {
      var seconds = Number(document.getElementById("advance_seconds").value || "0");
      clock({action: "advance", seconds: seconds}, "Advanced " + seconds + " s");
    });
    document.getElementById("clock_reset").addEventListener("click", function () {
      clock({action: "reset"}, "Back to real time");
    });
    document.getElementById("fault_form").addEventListener("submit", addFault);
    document.getElementById("faults_clear").addEventListener("click", function () {
      api("DELETE", "faults").then(function (result) {
        say(result.removed + " fault rule(s) removed");
        return loadFaults();
      }).catch(failed);
    });
    document.getElementById("instance_form").addEventListener("submit", createInstance);
    Promise.all([loadInfo(), loadScenarios(), loadFaults(), loadInstances(), loadJournal()])
      .then(function () { say("Ready"); }).catch(failed);
    window.setInterval(function () {
      if (document.getElementById("journal_live").checked) { loadJournal().catch(failed); }
    }, 2000);
  });
}());
