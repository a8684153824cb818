/* kb: "new since your last visit" on every page, and catching up on /start/.
   No server: the last visit lives in localStorage, entries come from /start/entries.json. */
(function () {
  "use strict";
  var GAP = 30 * 60 * 1000; // a visit ends after 30 minutes without a page view
  var script = document.currentScript;
  var KEY = "kb.visits:" + ((script && script.getAttribute("data-site")) || "/"); // two sites on one host stay apart
  var newLabel = (script && script.getAttribute("data-new")) || "new";

  function readState() {
    try { return JSON.parse(window.localStorage.getItem(KEY)) || null; } catch (e) { return null; }
  }

  /* {since, last}: `since` is when the previous visit ended (null on a first visit). */
  function visit() {
    var now = Date.now();
    var state = readState();
    if (!state || typeof state.last !== "number") state = { since: null, last: now };
    else if (now - state.last > GAP) state = { since: state.last, last: now };
    else state.last = now;
    try { window.localStorage.setItem(KEY, JSON.stringify(state)); } catch (e) { /* private mode */ }
    return state;
  }

  function markNew(root, since) {
    if (since === null) return;
    var items = root.querySelectorAll("[data-url][data-date]");
    for (var i = 0; i < items.length; i++) {
      var el = items[i];
      if (el.classList.contains("is-new") || !(Date.parse(el.getAttribute("data-date")) > since)) continue;
      el.classList.add("is-new");
      var badge = document.createElement("span");
      badge.className = "status status-new";
      badge.textContent = newLabel;
      var meta = el.querySelector(".meta");
      var link = el.querySelector("a");
      if (meta) { meta.appendChild(badge); }
      else if (link && link.parentNode === el) { el.insertBefore(badge, link.nextSibling); el.insertBefore(document.createTextNode(" "), badge); }
      else { el.appendChild(badge); }
    }
  }

  function ymd(date) {
    function two(n) { return (n < 10 ? "0" : "") + n; }
    return date.getFullYear() + "-" + two(date.getMonth() + 1) + "-" + two(date.getDate());
  }

  function format(text, values) {
    return text.replace(/\{(\w+)\}/g, function (m, k) { return k in values ? values[k] : m; });
  }

  function el(tag, attrs, text) {
    var node = document.createElement(tag);
    for (var k in attrs) if (Object.prototype.hasOwnProperty.call(attrs, k)) node.setAttribute(k, attrs[k]);
    if (text !== undefined) node.textContent = text;
    return node;
  }

  /* Entries on or after `day` (YYYY-MM-DD in the site's timezone), grouped by week, newest first. */
  function renderCatchup(out, data, day, strings, since) {
    out.textContent = "";
    var picked = data.entries.filter(function (e) { return e.day >= day; });
    var summary = el("p", { "class": "catchup-summary" },
      picked.length ? format(strings.result, { date: day, n: picked.length }) : strings.none);
    out.appendChild(summary);
    var order = [], groups = {};
    picked.forEach(function (e) {
      if (!groups[e.week]) { groups[e.week] = []; order.push(e.week); }
      groups[e.week].push(e);
    });
    order.sort().reverse();
    order.forEach(function (label) {
      var week = data.weeks[label] || { title: label, range: "", url: null, in_progress: false };
      var section = el("section", { "class": "catchup-week", "data-week": label });
      var h = el("h3", {}, week.title + " ");
      h.appendChild(el("span", { "class": "muted" }, week.range));
      if (week.in_progress) { h.appendChild(document.createTextNode(" ")); h.appendChild(el("span", { "class": "status status-open" }, strings.in_progress)); }
      section.appendChild(h);
      if (week.url) {
        var p = el("p", { "class": "catchup-digest" });
        p.appendChild(el("a", { href: week.url }, strings.digest + " →"));
        p.appendChild(el("span", { "class": "muted" }, " · " + format(strings.items, { n: groups[label].length })));
        section.appendChild(p);
      }
      var list = el("ul", { "class": "digest-list" });
      groups[label].forEach(function (e) {
        var li = el("li", { "data-url": e.url, "data-date": e.date });
        li.appendChild(el("a", { href: e.url }, e.title));
        li.appendChild(el("span", { "class": "muted" }, " · " + e.section_label + " · " + e.day.slice(5)));
        if (e.summary) { li.appendChild(el("br")); li.appendChild(el("span", { "class": "digest-summary" }, e.summary)); }
        list.appendChild(li);
      });
      section.appendChild(list);
      out.appendChild(section);
    });
    markNew(out, since);
  }

  function setupCatchup(root, state) {
    var form = document.getElementById("catchup-form");
    var input = document.getElementById("catchup-date");
    var out = document.getElementById("catchup-results");
    var strings = JSON.parse(document.getElementById("catchup-strings").textContent);
    var nojs = document.getElementById("catchup-nojs");
    var data = null;
    form.hidden = false;
    if (nojs) nojs.hidden = true;

    function show(day) {
      input.value = day;
      if (window.history && window.history.replaceState) {
        window.history.replaceState(null, "", window.location.pathname + "?since=" + day);
      }
      var go = function () { renderCatchup(out, data, day, strings, state.since); };
      if (data) return go();
      fetch(root.getAttribute("data-index")).then(function (r) { return r.json(); })
        .then(function (json) { data = json; go(); })
        .catch(function () { out.textContent = strings.none; });
    }

    form.addEventListener("submit", function (event) {
      event.preventDefault();
      if (input.value) show(input.value);
    });
    var buttons = form.querySelectorAll("[data-days-ago]");
    for (var i = 0; i < buttons.length; i++) {
      buttons[i].addEventListener("click", function (event) {
        var days = parseInt(event.currentTarget.getAttribute("data-days-ago"), 10);
        show(ymd(new Date(Date.now() - days * 86400000)));
      });
    }
    var last = form.querySelector("[data-last-visit]");
    if (state.since !== null) {
      var lastDay = ymd(new Date(state.since));
      last.hidden = false;
      last.textContent += " " + lastDay;
      last.addEventListener("click", function () { show(lastDay); });
    }
    var wanted = new URLSearchParams(window.location.search).get("since");
    if (wanted && /^\d{4}-\d{2}-\d{2}$/.test(wanted)) show(wanted);
  }

  var state = visit();
  markNew(document, state.since);
  var root = document.getElementById("catchup");
  if (root) setupCatchup(root, state);
})();
