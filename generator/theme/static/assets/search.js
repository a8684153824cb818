/* kb search: the header box (results as you type) and the /search/ page (?q=, filters).
 *
 * Reads the static index that generator/search.py writes under /search/: meta.bin, shards
 * s/<n>.bin (token → posting list) and stored texts d/<n>.bin. A query is an AND of terms:
 * a CJK run needs all its character bigrams (one character: itself) and, from three
 * characters on, must occur as written in the title or text; "quoted phrases" too; a Latin
 * word matches case-insensitively, the last one as a prefix while typing. A term found
 * nowhere means no results, never fewer terms. No library, no innerHTML: every piece of
 * indexed text reaches the page through textContent.
 */
(function () {
  "use strict";

  // Must match CJK_CLASS in generator/search.py.
  var CJK = "\u3005\u3007\u3040-\u309f\u30a0-\u30fa\u30fc-\u30ff\u3400-\u4dbf\u4e00-\u9fff" +
    "\uac00-\ud7a3\uf900-\ufaff\uff66-\uff9d\\u{20000}-\\u{3134f}";
  var TERM = new RegExp("[" + CJK + "]+|(?:(?![" + CJK + "])[\\p{L}\\p{N}])+", "gu");
  var IS_CJK = new RegExp("^[" + CJK + "]", "u");
  var CLUSTER = /\P{M}\p{M}*|\p{M}+/gu;
  var PHRASE = /"([^"]*)"?|“([^”]*)”?|「([^」]*)」?/g;
  var FILTER = "§";
  var PAGE_SIZE = 10;
  var DROPDOWN_SIZE = 8;
  var MAX_TOKENS = 6; // per checked term: must match MAX_TOKENS in generator/search.py
  var FETCH_LIMIT = 48; // stored texts checked per request before asking for "more"

  // --- Fetching and decoding -------------------------------------------------------------

  function gunzip(buffer) {
    var bytes = new Uint8Array(buffer);
    if (bytes[0] !== 0x1f || bytes[1] !== 0x8b) {
      return Promise.resolve(bytes); // a server already undid the gzip (Content-Encoding)
    }
    var stream = new Blob([bytes]).stream().pipeThrough(new DecompressionStream("gzip"));
    return new Response(stream).arrayBuffer().then(function (out) { return new Uint8Array(out); });
  }

  var CRC_TABLE = (function () {
    var table = new Int32Array(256);
    for (var n = 0; n < 256; n++) {
      var c = n;
      for (var k = 0; k < 8; k++) c = c & 1 ? 0xedb88320 ^ (c >>> 1) : c >>> 1;
      table[n] = c;
    }
    return table;
  })();

  function crc32(bytes) {
    var crc = -1;
    for (var i = 0; i < bytes.length; i++) crc = CRC_TABLE[(crc ^ bytes[i]) & 0xff] ^ (crc >>> 8);
    return (crc ^ -1) >>> 0;
  }

  /* A shard: per token its UTF-8 length, the UTF-8, n, a plane count k and the n differences
   * between successive postings (doc id << 4 | weight) as k byte planes (see encode_shard). */
  function parseShard(bytes) {
    var tokens = new Map();
    var offset = 0;
    var decoder = new TextDecoder();
    function varint() {
      var value = 0, scale = 1, byte;
      do {
        byte = bytes[offset++];
        value += (byte & 127) * scale;
        scale *= 128;
      } while (byte >= 128);
      return value;
    }
    while (offset < bytes.length) {
      var length = varint();
      var token = decoder.decode(bytes.subarray(offset, offset + length));
      offset += length;
      var count = varint();
      var width = bytes[offset++];
      var docs = new Int32Array(count);
      var weights = new Uint8Array(count);
      var value = 0;
      for (var i = 0; i < count; i++) {
        for (var plane = 0; plane < width; plane++) value += bytes[offset + plane * count + i] * Math.pow(256, plane);
        docs[i] = Math.floor(value / 16);
        weights[i] = value % 16;
      }
      offset += width * count;
      tokens.set(token, { docs: docs, weights: weights });
    }
    return tokens;
  }

  function Index(base) {
    this.base = base;
    this.meta = null;
    this.fold = new Map();
    this.shards = new Map();
    this.bundles = new Map();
  }

  Index.prototype.fetchBytes = function (path, fresh) {
    var url = this.base + path + (this.meta ? "?v=" + this.meta.build : "");
    return fetch(url, fresh ? { cache: "no-cache" } : {}).then(function (response) {
      if (!response.ok) throw new Error(response.status + " " + url);
      return response.arrayBuffer();
    }).then(gunzip);
  };

  Index.prototype.load = function () {
    var self = this;
    if (!this.loading) {
      this.loading = this.fetchBytes("meta.bin", true).then(function (bytes) {
        self.meta = JSON.parse(new TextDecoder().decode(bytes));
        var pairs = Array.from(self.meta.fold);
        for (var i = 0; i + 1 < pairs.length; i += 2) self.fold.set(pairs[i], pairs[i + 1]);
        return self;
      });
      this.loading.catch(function () { self.loading = null; });
    }
    return this.loading;
  };

  /* NFKC, lower case, traditional → simplified: what generator/search.py's Folding does. */
  Index.prototype.normalize = function (text) {
    var out = "";
    var lower = text.normalize("NFKC").toLowerCase().replace(/ς/g, "σ");
    for (var ch of lower) out += this.fold.get(ch) || ch;
    return out;
  };

  /* The normalized text with whitespace runs as one space, and where each of its code units
   * came from in the original, so that a match can be highlighted in what the reader sees. */
  Index.prototype.normalizeMapped = function (text) {
    var out = "";
    var from = [];
    var match;
    CLUSTER.lastIndex = 0;
    while ((match = CLUSTER.exec(text))) {
      var piece = /^\s+$/.test(match[0]) ? " " : this.normalize(match[0]);
      if (piece === " " && (out === "" || out[out.length - 1] === " ")) continue;
      for (var i = 0; i < piece.length; i++) from.push(match.index);
      out += piece;
    }
    from.push(text.length);
    return { text: out, from: from };
  };

  Index.prototype.shardKey = function (token) {
    if (token[0] === FILTER || IS_CJK.test(token)) return token;
    return Array.from(token).slice(0, this.meta.prefix).join("");
  };

  Index.prototype.shard = function (token) {
    var n = crc32(new TextEncoder().encode(this.shardKey(token))) % this.meta.shards;
    if (!this.shards.has(n)) {
      var self = this;
      var pending = this.fetchBytes("s/" + n + ".bin").then(parseShard);
      pending.catch(function () { self.shards.delete(n); });
      this.shards.set(n, pending);
    }
    return this.shards.get(n);
  };

  Index.prototype.postings = function (token) {
    return this.shard(token).then(function (tokens) { return tokens.get(token) || null; });
  };

  /* Every indexed word starting with `prefix`: they share its shard (keyed by the first letters). */
  Index.prototype.prefixPostings = function (prefix) {
    return this.shard(prefix).then(function (tokens) {
      var found = [];
      tokens.forEach(function (list, token) {
        if (token.startsWith(prefix) && token[0] !== FILTER) found.push(list);
      });
      return found;
    });
  };

  Index.prototype.doc = function (id) {
    var self = this;
    var n = Math.floor(id / this.meta.bundle);
    if (!this.bundles.has(n)) {
      var pending = this.fetchBytes("d/" + n + ".bin").then(function (bytes) {
        return JSON.parse(new TextDecoder().decode(bytes));
      });
      pending.catch(function () { self.bundles.delete(n); });
      this.bundles.set(n, pending);
    }
    return this.bundles.get(n).then(function (docs) { return docs[id % self.meta.bundle]; });
  };

  // --- Queries ---------------------------------------------------------------------------

  /* query → { terms: [{ text, tokens, check, prefix }], empty }. `check` is a string that must
   * occur in the normalized title or text (phrases and CJK runs of three or more). */
  function parseQuery(index, query) {
    var terms = [];
    var rest = query.replace(PHRASE, function (whole, a, b, c) {
      var phrase = index.normalize(a || b || c || "").replace(/\s+/g, " ").trim();
      var tokens = [];
      (phrase.match(TERM) || []).forEach(function (part) { tokens = tokens.concat(termTokens(part)); });
      if (tokens.length) terms.push({ text: phrase, tokens: spread(tokens), check: phrase, prefix: false });
      return " ";
    });
    var normalized = index.normalize(rest);
    var parts = normalized.match(TERM) || [];
    var typingLast = /[\p{L}\p{N}]$/u.test(rest);
    parts.forEach(function (part, i) {
      var cjk = IS_CJK.test(part);
      var length = Array.from(part).length;
      terms.push({
        text: part,
        tokens: cjk && length >= 3 ? spread(termTokens(part)) : termTokens(part),
        check: cjk && length >= 3 ? part : null,
        prefix: !cjk && typingLast && i === parts.length - 1 && length >= index.meta.prefix,
      });
    });
    return terms;
  }

  /* A term checked in the stored text needs only some of its tokens to find candidates: at most
   * MAX_TOKENS, evenly spread, so that a long pasted sentence fetches a few shards, not dozens. */
  function spread(tokens) {
    if (tokens.length <= MAX_TOKENS) return tokens;
    var out = [];
    for (var i = 0; i < MAX_TOKENS; i++) out.push(tokens[Math.round(i * (tokens.length - 1) / (MAX_TOKENS - 1))]);
    return out;
  }

  function termTokens(part) {
    if (!IS_CJK.test(part)) return [part];
    var chars = Array.from(part);
    if (chars.length === 1) return chars;
    var out = [];
    for (var i = 0; i + 1 < chars.length; i++) out.push(chars[i] + chars[i + 1]);
    return out;
  }

  /* doc id → { tf, title } for one term: the intersection of its tokens' lists. */
  function termMatches(index, term) {
    var lists = term.tokens.map(function (token, i) {
      var last = i === term.tokens.length - 1;
      if (term.prefix && last) return index.prefixPostings(token);
      return index.postings(token).then(function (list) { return list ? [list] : []; });
    });
    return Promise.all(lists).then(function (perToken) {
      var result = null;
      for (var i = 0; i < perToken.length; i++) {
        var union = new Map();
        perToken[i].forEach(function (list) {
          for (var k = 0; k < list.docs.length; k++) {
            var w = list.weights[k];
            var old = union.get(list.docs[k]);
            var tf = w >> 1, title = (w & 1) === 1;
            if (!old) union.set(list.docs[k], { tf: tf, title: title });
            else { old.tf = Math.max(old.tf, tf); old.title = old.title || title; }
          }
        });
        if (result === null) { result = union; continue; }
        var next = new Map();
        result.forEach(function (hit, doc) {
          var other = union.get(doc);
          if (other) next.set(doc, { tf: Math.min(hit.tf, other.tf), title: hit.title && other.title });
        });
        result = next;
      }
      return result || new Map();
    });
  }

  function filterDocs(index, filters) {
    var tokens = [];
    if (filters.section) tokens.push(FILTER + "s:" + filters.section);
    if (filters.tag) tokens.push(FILTER + "t:" + filters.tag);
    return Promise.all(tokens.map(function (t) { return index.postings(t); })).then(function (lists) {
      if (!tokens.length) return null;
      var sets = lists.map(function (list) { return new Set(list ? list.docs : []); });
      return sets.reduce(function (a, b) { return new Set(Array.from(a).filter(function (d) { return b.has(d); })); });
    });
  }

  /* The candidates, best first, and the first term that matched nothing (if any). */
  function candidates(index, terms, filters) {
    return Promise.all([Promise.all(terms.map(function (t) { return termMatches(index, t); })),
      filterDocs(index, filters)]).then(function (found) {
      var perTerm = found[0], allowed = found[1];
      for (var i = 0; i < perTerm.length; i++) {
        if (perTerm[i].size === 0) return { list: [], missing: terms[i].text };
      }
      var scored = [];
      if (!terms.length) {
        if (allowed) allowed.forEach(function (doc) { scored.push({ doc: doc, titles: 0, tf: 0 }); });
      } else {
        perTerm[0].forEach(function (hit, doc) {
          if (allowed && !allowed.has(doc)) return;
          var titles = 0, tf = 0;
          for (var j = 0; j < perTerm.length; j++) {
            var h = perTerm[j].get(doc);
            if (!h) return;
            titles += h.title ? 1 : 0;
            tf += h.tf;
          }
          scored.push({ doc: doc, titles: titles, tf: tf });
        });
      }
      scored.sort(compareHits);
      return { list: scored, missing: null };
    });
  }

  /* Title matches first, then how often the terms occur, then newer (doc ids are oldest first). */
  function compareHits(a, b) {
    return b.titles - a.titles || b.tf - a.tf || b.doc - a.doc;
  }

  function countIn(haystack, needle) {
    var n = 0, at = haystack.indexOf(needle);
    while (at !== -1) { n++; at = haystack.indexOf(needle, at + needle.length); }
    return n;
  }

  /* Check a candidate against its stored text; rescore it with exact counts. */
  function verify(index, terms, hit) {
    return index.doc(hit.doc).then(function (doc) {
      var title = index.normalizeMapped(doc.t);
      var body = index.normalizeMapped(doc.x);
      var titles = 0, tf = 0;
      for (var i = 0; i < terms.length; i++) {
        var term = terms[i];
        var needle = term.check || term.text;
        if (term.check && title.text.indexOf(needle) === -1 && body.text.indexOf(needle) === -1) return null;
        if (title.text.indexOf(needle) !== -1) titles++;
        tf += countIn(body.text, needle);
      }
      return { doc: hit.doc, titles: terms.length ? titles : 0, tf: tf, data: doc, title: title, body: body };
    });
  }

  /* A search in progress: candidates once, then pages of verified results on demand. */
  function Search(index, query, filters) {
    this.index = index;
    this.terms = parseQuery(index, query);
    this.filters = filters;
    this.position = 0;
    this.verified = 0;
    this.rejected = 0;
  }

  Search.prototype.start = function () {
    var self = this;
    if (!this.terms.length && !this.filters.section && !this.filters.tag) {
      this.list = [];
      this.missing = null;
      return Promise.resolve(this);
    }
    return candidates(this.index, this.terms, this.filters).then(function (found) {
      self.list = found.list;
      self.missing = found.missing;
      self.exact = !self.terms.some(function (t) { return t.check; });
      return self;
    });
  };

  Search.prototype.more = function (wanted) {
    var self = this;
    var results = [];
    var budget = FETCH_LIMIT;
    function step() {
      if (results.length >= wanted || self.position >= self.list.length || budget <= 0) {
        results.sort(compareHits);
        return Promise.resolve(results);
      }
      var batch = self.list.slice(self.position, self.position + Math.min(wanted - results.length + 2, budget));
      self.position += batch.length;
      budget -= batch.length;
      return Promise.all(batch.map(function (hit) { return verify(self.index, self.terms, hit); }))
        .then(function (checked) {
          checked.forEach(function (r) {
            if (r) { results.push(r); self.verified++; } else { self.rejected++; }
          });
          return step();
        });
    }
    return step();
  };

  Search.prototype.done = function () { return this.position >= this.list.length; };

  /* How many results there are: exact when nothing needs checking or all was checked. */
  Search.prototype.count = function () {
    if (this.exact || this.done()) return { n: this.list.length - this.rejected, exact: true };
    return { n: this.list.length - this.rejected, exact: false };
  };

  // --- Showing results -------------------------------------------------------------------

  function el(tag, className, text) {
    var node = document.createElement(tag);
    if (className) node.className = className;
    if (text !== undefined) node.textContent = text;
    return node;
  }

  /* Original-text ranges [start, end) of every occurrence of the terms in a mapped text. */
  function matchRanges(mapped, terms, from, to) {
    var ranges = [];
    terms.forEach(function (term) {
      var needle = term.check || term.text;
      if (!needle) return;
      var at = mapped.text.indexOf(needle);
      while (at !== -1) {
        var start = mapped.from[at], end = mapped.from[at + needle.length];
        if (end > from && start < to) ranges.push([Math.max(start, from), Math.min(end, to)]);
        at = mapped.text.indexOf(needle, at + needle.length);
      }
    });
    ranges.sort(function (a, b) { return a[0] - b[0] || b[1] - a[1]; });
    var merged = [];
    ranges.forEach(function (r) {
      var last = merged[merged.length - 1];
      if (last && r[0] <= last[1]) last[1] = Math.max(last[1], r[1]);
      else merged.push(r.slice());
    });
    return merged;
  }

  /* Text with <mark>s, built from text nodes: nothing in `text` is ever parsed as HTML. */
  function highlighted(parent, text, ranges, from, to) {
    var at = from;
    ranges.forEach(function (r) {
      if (r[0] > at) parent.appendChild(document.createTextNode(text.slice(at, r[0])));
      parent.appendChild(el("mark", null, text.slice(r[0], r[1])));
      at = r[1];
    });
    if (at < to) parent.appendChild(document.createTextNode(text.slice(at, to)));
    return parent;
  }

  /* About `size` characters of the text around the first match, on whole characters. */
  function excerptWindow(text, ranges, size) {
    var first = ranges.length ? ranges[0][0] : 0;
    var from = Math.max(0, first - Math.floor(size / 3));
    var to = Math.min(text.length, from + size);
    from = Math.max(0, Math.min(from, to - size));
    var lineStart = text.lastIndexOf("\n", first);
    if (lineStart >= from) from = lineStart + 1;
    ranges.forEach(function (r) { if (r[0] < to && r[1] > to) to = r[1]; }); // no match cut in two
    if (from > 0 && /[\udc00-\udfff]/.test(text[from])) from--;
    if (to < text.length && /[\ud800-\udbff]/.test(text[to - 1])) to++;
    return [from, to];
  }

  function renderResult(result, terms, labels, url, isPage, id) {
    var size = isPage ? 160 : 70;
    var doc = result.data;
    var item = el("li", "search-result");
    item.setAttribute("role", "option");
    item.id = id;
    var link = el("a", "search-result-title");
    link.href = url(doc.u);
    highlighted(link, doc.t, matchRanges(result.title, terms, 0, doc.t.length), 0, doc.t.length);
    item.appendChild(link);
    var meta = el("p", "search-result-meta muted");
    meta.appendChild(el("span", "search-result-section", labels[doc.s] || doc.s));
    meta.appendChild(document.createTextNode(" · "));
    var time = el("time", null, doc.f);
    time.setAttribute("datetime", doc.d);
    meta.appendChild(time);
    doc.g.forEach(function (tag) {
      meta.appendChild(document.createTextNode(" "));
      var chip = el(isPage ? "button" : "span", "search-result-tag", "#" + tag[1]);
      if (isPage) { chip.type = "button"; chip.setAttribute("data-tag", tag[0]); }
      meta.appendChild(chip);
    });
    item.appendChild(meta);
    var all = matchRanges(result.body, terms, 0, doc.x.length);
    var span = excerptWindow(doc.x, all, size);
    var excerpt = el("p", "search-result-excerpt");
    if (span[0] > 0) excerpt.appendChild(document.createTextNode("…"));
    highlighted(excerpt, doc.x, matchRanges(result.body, terms, span[0], span[1]), span[0], span[1]);
    if (span[1] < doc.x.length) excerpt.appendChild(document.createTextNode("…"));
    item.appendChild(excerpt);
    return item;
  }

  function format(template, values) {
    return template.replace(/\{(\w+)\}/g, function (whole, key) {
      return key in values ? String(values[key]) : whole;
    });
  }

  function debounce(fn, ms) {
    var timer = null;
    return function () {
      clearTimeout(timer);
      timer = setTimeout(fn, ms);
    };
  }

  // --- Wiring ----------------------------------------------------------------------------

  function setup(form) {
    var strings = {};
    ["results", "about", "none", "missing", "loading", "error", "hint", "see-all"].forEach(function (key) {
      strings[key] = form.getAttribute("data-s-" + key) || "";
    });
    var base = form.getAttribute("data-index");
    var siteBase = form.getAttribute("data-base") || "/";
    var index = new Index(base);
    var labels = {};
    var input = form.querySelector("input[name=q]");
    var list = form.querySelector("[data-search-results]");
    var status = form.querySelector("[data-search-status]");
    var moreButton = form.querySelector("[data-search-more]");
    var sectionSelect = form.querySelector("select[name=section]");
    var tagSelect = form.querySelector("select[name=tag]");
    var isPage = form.hasAttribute("data-search-page");
    var pageSize = isPage ? PAGE_SIZE : DROPDOWN_SIZE;
    var current = null;
    var serial = 0;
    var active = -1;

    function url(path) { return siteBase.replace(/\/$/, "") + path; }

    function setStatus(text) { if (status) status.textContent = text; }

    function options() {
      return {
        section: sectionSelect ? sectionSelect.value : "",
        tag: tagSelect ? tagSelect.value : "",
      };
    }

    function open(show) {
      if (isPage) return;
      list.hidden = !show;
      if (status) status.hidden = !show;
      input.setAttribute("aria-expanded", show ? "true" : "false");
    }

    function items() { return Array.from(list.querySelectorAll("[role=option]")); }

    function activate(n) {
      var all = items();
      if (!all.length) return;
      active = (n + all.length) % all.length;
      all.forEach(function (item, i) { item.setAttribute("aria-selected", i === active ? "true" : "false"); });
      input.setAttribute("aria-activedescendant", all[active].id);
      all[active].scrollIntoView({ block: "nearest" });
    }

    function describe(search) {
      var q = input.value.trim();
      if (search.missing) return format(strings.missing, { term: search.missing });
      var count = search.count();
      if (count.n === 0) return format(strings.none, { q: q });
      return format(count.exact ? strings.results : strings.about, { n: count.n });
    }

    function show(search, results, append) {
      if (!append) { list.textContent = ""; active = -1; input.removeAttribute("aria-activedescendant"); }
      var offset = items().length;
      results.forEach(function (r, i) {
        var id = (isPage ? "kb-result-" : "kb-suggest-") + (offset + i);
        list.appendChild(renderResult(r, search.terms, labels, url, isPage, id));
      });
      if (!isPage && search.list.length > results.length + offset && input.value.trim()) {
        var all = el("li", "search-see-all");
        all.setAttribute("role", "option");
        all.id = "kb-suggest-all";
        var link = el("a", null, strings["see-all"]);
        link.href = form.action + "?q=" + encodeURIComponent(input.value.trim());
        all.appendChild(link);
        list.appendChild(all);
      }
      setStatus(describe(search));
      if (moreButton) moreButton.hidden = search.done();
    }

    function run() {
      var query = input.value;
      var filters = options();
      var mine = ++serial;
      if (isPage) {
        var params = new URLSearchParams();
        if (query.trim()) params.set("q", query.trim());
        if (filters.section) params.set("section", filters.section);
        if (filters.tag) params.set("tag", filters.tag);
        var search = params.toString();
        history.replaceState(null, "", location.pathname + (search ? "?" + search : ""));
      }
      if (!query.trim() && !filters.section && !filters.tag) {
        list.textContent = "";
        setStatus(isPage ? strings.hint : "");
        if (moreButton) moreButton.hidden = true;
        open(false);
        current = null;
        return Promise.resolve();
      }
      setStatus(strings.loading);
      return index.load().then(function () {
        if (!Object.keys(labels).length) index.meta.sections.forEach(function (s) { labels[s[0]] = s[1]; });
        return new Search(index, query, filters).start();
      }).then(function (s) {
        if (mine !== serial) return null;
        current = s;
        return s.more(pageSize).then(function (results) {
          if (mine !== serial) return;
          show(s, results, false);
          open(true);
          form.setAttribute("data-search-done", String(mine));
        });
      }).catch(function (error) {
        if (mine !== serial) return;
        setStatus(strings.error);
        open(true);
        if (window.console) console.error(error);
      });
    }

    var runSoon = debounce(run, 120);
    input.addEventListener("input", runSoon);
    if (sectionSelect) sectionSelect.addEventListener("change", run);
    if (tagSelect) tagSelect.addEventListener("change", run);
    if (moreButton) {
      moreButton.addEventListener("click", function () {
        if (!current) return;
        var s = current;
        s.more(pageSize).then(function (results) { if (s === current) show(s, results, true); });
      });
    }
    list.addEventListener("click", function (event) {
      var chip = event.target.closest ? event.target.closest("[data-tag]") : null;
      if (chip && tagSelect) {
        tagSelect.value = chip.getAttribute("data-tag");
        run();
      }
    });
    input.addEventListener("keydown", function (event) {
      var all = items();
      if (event.key === "ArrowDown" && all.length) {
        event.preventDefault();
        open(true);
        activate(active + 1);
      } else if (event.key === "ArrowUp" && all.length) {
        event.preventDefault();
        activate(active - 1);
      } else if (event.key === "Enter" && active >= 0 && all[active]) {
        event.preventDefault();
        var link = all[active].querySelector("a");
        if (link) location.href = link.href;
      } else if (event.key === "Escape") {
        open(false);
        active = -1;
      }
    });
    if (!isPage) {
      form.addEventListener("focusout", function (event) {
        if (!form.contains(event.relatedTarget)) setTimeout(function () { if (!form.contains(document.activeElement)) open(false); }, 150);
      });
      input.addEventListener("focus", function () { if (list.childNodes.length) open(true); });
    }
    if (isPage) {
      form.addEventListener("submit", function (event) { event.preventDefault(); run(); });
      var params = new URLSearchParams(location.search);
      input.value = params.get("q") || "";
      if (sectionSelect) sectionSelect.value = params.get("section") || "";
      if (tagSelect) tagSelect.value = params.get("tag") || "";
      run();
    }
  }

  function init() {
    Array.prototype.forEach.call(document.querySelectorAll("form[data-kb-search]"), setup);
  }

  if (document.readyState === "loading") document.addEventListener("DOMContentLoaded", init);
  else init();
})();
