// The status page's script, first half: drawing each repo from the status and from what events said,
// and the status, run history and log tails it fetches. Plain ES2017 for any browser that has
// EventSource, with nothing to load: it runs inside the page (page.ts) under a nonce. Its second half is
// page-live.ts; the two share one function scope. No backtick and no dollar-brace in here: it is a raw string.

export const PAGE_RENDER = String.raw`
  'use strict';
  var data = JSON.parse(document.getElementById('gw-data').textContent);
  var canAct = data.canAct === true;
  var list = document.getElementById('repos');
  var note = document.getElementById('note');
  var live = document.getElementById('live');
  var filter = document.getElementById('filter');
  /** name -> { i, s: status row, lines, failure, runs, el } */
  var repos = new Map();
  var dirty = new Set();
  var frame = 0;
  var counter = 0;
  var daemon = null;
  var LINES = 8;
  var TAIL = 10;
  var BARS = 12;
  var TOKEN_KEY = 'gitwatch-listen-token';

  function esc(t) {
    return String(t).replace(/[&<>"']/g, function (c) {
      return '&#' + c.charCodeAt(0) + ';';
    });
  }
  function short(sha) {
    return sha ? String(sha).slice(0, 7) : '';
  }
  function dur(ms) {
    if (ms < 1000) return Math.max(0, Math.round(ms)) + ' ms';
    var s = Math.round(ms / 1000);
    if (s < 60) return s + 's';
    var m = Math.floor(s / 60);
    if (m < 60) return m + 'm ' + (s % 60) + 's';
    return Math.floor(m / 60) + 'h ' + (m % 60) + 'm';
  }
  function since(iso) {
    var t = Date.parse(iso);
    return isNaN(t) ? '' : dur(Date.now() - t);
  }
  function ago(iso) {
    var t = Date.parse(iso);
    if (isNaN(t)) return '';
    var s = Math.max(0, Math.round((Date.now() - t) / 1000));
    if (s < 60) return s + 's ago';
    if (s < 3600) return Math.floor(s / 60) + 'm ago';
    if (s < 86400) return Math.floor(s / 3600) + 'h ago';
    return Math.floor(s / 86400) + 'd ago';
  }
  function until(iso) {
    var t = Date.parse(iso);
    if (isNaN(t)) return '';
    var s = Math.round((t - Date.now()) / 1000);
    return s <= 0 ? 'due now' : 'in ' + dur(s * 1000);
  }
  function ref(s) {
    if (s.tag) return 'tag ' + s.tag;
    return s.branch ? 'branch ' + s.branch : 'default branch';
  }
  function active(s) {
    return s.phase === 'running' || s.phase === 'stopping';
  }

  /** [class, icon, word]: a status is never a colour alone. */
  function view(r) {
    var s = r.s;
    if (s.phase === 'running') return ['s-run', '\u25B6', 'Running'];
    if (s.phase === 'stopping') return ['s-run', '\u25A0', 'Stopping'];
    if (s.phase === 'queued') return ['s-run', '\u25F7', 'Queued'];
    if (s.lastCheckError) return ['s-warn', '\u26A0', 'Check failed'];
    // The head waits on a signature: the last run's result is not what the repo is now.
    if (s.unverified) return ['s-warn', '\u26A0', 'Unverified'];
    var l = s.lastRun;
    if (!l) return ['', '\u25CB', 'No runs yet'];
    if (l.status === 'succeeded') return ['s-ok', '\u2714', 'Succeeded'];
    if (l.status === 'skipped') return ['s-ok', '\u21B7', 'Skipped'];
    if (l.status === 'interrupted') return ['s-bad', '\u2716', 'Interrupted'];
    return ['s-bad', '\u2716', 'Failed'];
  }

  function badges(s) {
    var out = '';
    if (s.paused) out += '<span class="badge">\u2016 paused</span>';
    if (s.enabled === false) out += '<span class="badge">\u2298 disabled</span>';
    if (s.pinned) out += '<span class="badge">\u25C6 pinned' + (typeof s.pinned === 'string' ? ' ' + esc(short(s.pinned)) : '') + '</span>';
    if (s.unverified) out += '<span class="badge">\u26A0 unverified</span>';
    if (s.gone) out += '<span class="badge">\u2205 gone</span>';
    if (s.configured === false) out += '<span class="badge">removed</span>';
    return out;
  }

  function bars(r) {
    var runs = r.runs.slice(-BARS);
    if (runs.length === 0) return '';
    var max = 1;
    runs.forEach(function (x) {
      max = Math.max(max, x.durationMs);
    });
    var failed = 0;
    var h = runs
      .map(function (x) {
        var bad = x.status === 'failed' || x.status === 'interrupted';
        if (bad) failed++;
        var pct = Math.max(10, Math.round((x.durationMs / max) * 100));
        var title = short(x.commit) + ' ' + x.status + ' in ' + dur(x.durationMs);
        return '<span class="' + (bad ? 'bad' : x.status === 'succeeded' ? 'ok' : '') + '" style="height:' + pct + '%" title="' + esc(title) + '"></span>';
      })
      .join('');
    var last = runs[runs.length - 1];
    var label = 'Recent runs: ' + runs.length + ', ' + failed + ' failed; last ' + last.status + ' in ' + dur(last.durationMs);
    return '<div class="runs" role="img" aria-label="' + esc(label) + '">' + h + '</div><p class="meta">' + esc(label) + '</p>';
  }

  function logLink(s) {
    return '<a href="/api/repos/' + encodeURIComponent(s.name) + '/logs">Full log<span class="sr"> of ' + esc(s.name) + '</span></a>';
  }

  function inner(r) {
    var s = r.s;
    var v = view(r);
    var h = [];
    h.push('<article aria-labelledby="h' + r.i + '"><div class="head"><h2 id="h' + r.i + '">' + esc(s.name) + '</h2>');
    h.push('<span class="ref">' + esc(ref(s)) + '</span>' + badges(s) + '</div>');
    var when = active(s) && s.runStartedAt ? 'started <span data-ago="' + esc(s.runStartedAt) + '">' + ago(s.runStartedAt) + '</span>' : s.lastRun ? '<span data-ago="' + esc(s.lastRun.finishedAt) + '">' + ago(s.lastRun.finishedAt) + '</span>' : '';
    h.push('<p class="state"><span aria-hidden="true">' + v[1] + '</span> ' + v[2] + (when ? ' <span class="meta">\u00B7 ' + when + '</span>' : '') + '</p>');
    var commit = active(s) && s.runCommit ? s.runCommit : s.commit;
    if (commit) {
      var subject = (active(s) && s.runCommit ? s.runSubject : s.lastRun && s.lastRun.commit === commit ? s.lastRun.subject : '') || '';
      h.push('<p class="meta">Commit <code>' + esc(short(commit)) + '</code>' + (subject ? ' ' + esc(subject) : '') + '</p>');
    }
    var next = s.nextCheckAt && !active(s) ? ' \u00B7 next check <span data-until="' + esc(s.nextCheckAt) + '">' + until(s.nextCheckAt) + '</span>' : '';
    h.push('<p class="meta">Phase ' + esc(s.phase || 'unknown') + next + '</p>');
    if (s.phase === 'queued' && s.waitingFor) h.push('<p class="meta">Waiting for ' + esc(s.waitingFor) + '</p>');
    if (r.waiting && !active(s)) h.push('<p class="meta">' + esc(r.waiting) + '</p>');
    if (s.lastCheckError) h.push('<p class="meta">Check failed: ' + esc(s.lastCheckError) + '</p>');
    if (s.unverified) h.push('<p class="meta">Unverified: ' + esc(s.unverified.reason) + '; not checked out, nothing runs</p>');
    if (active(s)) {
      var step = s.step ? 'Step <strong>' + esc(s.step) + '</strong> \u00B7 <span data-since="' + esc(s.stepStartedAt || s.runStartedAt || '') + '">' + since(s.stepStartedAt || s.runStartedAt || '') + '</span>' : 'Starting';
      h.push('<p>' + step + '</p>');
      h.push('<pre class="out" aria-label="Latest output of ' + esc(s.name) + '">' + (r.lines.length ? esc(r.lines.join('\n')) : '<span class="empty">(no output yet)</span>') + '</pre>');
    } else if (s.lastRun && (s.lastRun.status === 'failed' || s.lastRun.status === 'interrupted')) {
      var f = r.failure;
      var what = f && f.step ? 'Failed at step <strong>' + esc(f.step) + '</strong>' + (f.error ? ': ' + esc(f.error) : '') : 'Failed' + (s.lastRun.error ? ': ' + esc(s.lastRun.error) : '');
      h.push('<p class="failure"><span aria-hidden="true">\u2716</span> ' + what + '</p>');
      if (f && f.tail && f.tail.length) h.push('<pre class="tail" aria-label="Last lines of the failed step">' + esc(f.tail.join('\n')) + '</pre>');
      h.push('<p>' + logLink(s) + '</p>');
    }
    h.push(bars(r));
    if (canAct && s.configured !== false) {
      var n = esc(s.name);
      h.push('<div class="actions">');
      h.push('<button type="button" data-act="trigger" data-name="' + n + '" aria-label="Trigger ' + n + '">Trigger</button>');
      h.push(s.paused ? '<button type="button" data-act="resume" data-name="' + n + '" aria-label="Resume ' + n + '">Resume</button>' : '<button type="button" data-act="pause" data-name="' + n + '" aria-label="Pause ' + n + '">Pause</button>');
      if (active(s) || s.phase === 'queued') h.push('<button type="button" data-act="cancel" data-name="' + n + '" aria-label="Cancel the run of ' + n + '">Cancel</button>');
      h.push('</div>');
    }
    h.push('</article>');
    return h.join('');
  }

  function className(r) {
    return 'repo ' + view(r)[0];
  }

  function summary() {
    var running = 0, failed = 0, ok = 0, paused = 0;
    repos.forEach(function (r) {
      var c = view(r)[0];
      if (c === 's-run') running++;
      else if (c === 's-bad' || c === 's-warn') failed++;
      else if (c === 's-ok') ok++;
      if (r.s.paused) paused++;
    });
    document.getElementById('summary').textContent = repos.size + ' repos \u00B7 \u25B6 ' + running + ' running \u00B7 \u2716 ' + failed + ' failing \u00B7 \u2714 ' + ok + ' ok' + (paused ? ' \u00B7 \u2016 ' + paused + ' paused' : '');
    var foot = document.getElementById('foot');
    foot.textContent = daemon ? 'gitwatch daemon pid ' + daemon.pid + ', up since ' + new Date(daemon.startedAt).toLocaleString() : '';
  }

  function mark(r) {
    dirty.add(r);
    if (!frame) frame = requestAnimationFrame(flush);
  }
  function flush() {
    frame = 0;
    dirty.forEach(function (r) {
      if (!r.el) return;
      // A keyboard user's place survives the redraw: the same button has the focus again.
      var focused = document.activeElement;
      var act = focused && r.el.contains(focused) ? focused.getAttribute('data-act') : null;
      r.el.className = className(r);
      r.el.innerHTML = inner(r);
      var again = act ? r.el.querySelector('[data-act="' + act + '"]') : null;
      if (again) again.focus();
    });
    dirty.clear();
    summary();
  }

  function entry(row) {
    return { i: counter++, s: row, lines: [], failure: null, runs: [], el: null, waiting: '' };
  }

  /** The whole status: rows kept where they are, new ones added, removed ones dropped, in the status's order. */
  function apply(status) {
    daemon = status.daemon;
    var seen = new Set();
    var html = [];
    var fresh = repos.size === 0;
    var order = [];
    status.repos.forEach(function (row) {
      seen.add(row.name);
      var r = repos.get(row.name);
      if (!r) {
        r = entry(row);
        repos.set(row.name, r);
      } else r.s = row;
      order.push(r);
    });
    repos.forEach(function (r, name) {
      if (!seen.has(name)) repos.delete(name);
    });
    var same = !fresh && order.length === list.children.length && order.every(function (r, i) {
      return r.el === list.children[i];
    });
    if (same) {
      order.forEach(mark);
      return;
    }
    order.forEach(function (r) {
      html.push('<li class="' + className(r) + '" data-name="' + esc(r.s.name) + '">' + inner(r) + '</li>');
    });
    list.innerHTML = html.join('');
    order.forEach(function (r, i) {
      r.el = list.children[i];
    });
    applyFilter();
    summary();
  }

  function refresh() {
    return fetch('/api/status', { cache: 'no-store' })
      .then(function (res) {
        return res.ok ? res.json() : null;
      })
      .then(function (status) {
        if (status) apply(status);
        loadTails();
      })
      .catch(function () {});
  }

  function loadRuns() {
    fetch('/api/runs', { cache: 'no-store' })
      .then(function (res) {
        return res.ok ? res.json() : null;
      })
      .then(function (runs) {
        if (!runs) return;
        repos.forEach(function (r, name) {
          if (runs[name]) {
            r.runs = runs[name];
            mark(r);
          }
        });
      })
      .catch(function () {});
  }

  /** A failed run's step and last lines, or a running one's latest lines, from the run log when no event said them. */
  var tailsAsked = new Set();
  function loadTails() {
    var want = [];
    repos.forEach(function (r) {
      var s = r.s;
      var failed = !active(s) && s.lastRun && (s.lastRun.status === 'failed' || s.lastRun.status === 'interrupted') && !r.failure;
      var running = active(s) && r.lines.length === 0;
      var key = s.name + ' ' + (running ? s.runStartedAt : s.lastRun && s.lastRun.startedAt);
      if ((failed || running) && !tailsAsked.has(key)) {
        tailsAsked.add(key);
        want.push(r);
      }
    });
    var next = function () {
      var r = want.shift();
      if (!r) return;
      fetch('/api/repos/' + encodeURIComponent(r.s.name) + '/logs', { cache: 'no-store' })
        .then(function (res) {
          return res.ok ? res.text() : '';
        })
        .then(function (text) {
          fromLog(r, text);
          next();
        })
        .catch(next);
    };
    for (var k = 0; k < 4; k++) next();
  }

  function fromLog(r, text) {
    var lines = text.split('\n');
    if (lines.length && lines[lines.length - 1] === '') lines.pop();
    var body = lines.slice(1);
    if (active(r.s)) {
      if (r.lines.length === 0)
        r.lines = body
          .filter(function (l) {
            return l.indexOf('==> ') !== 0 && l.indexOf('<== ') !== 0;
          })
          .slice(-LINES);
    } else if (!r.failure) {
      for (var i = body.length - 1; i >= 0; i--) {
        var m = /^<== (.+?): (.*)$/.exec(body[i]);
        if (!m || m[2] === 'succeeded' || / \(continue_on_error\)$/.test(m[2])) continue;
        var out = [];
        for (var j = i - 1; j >= 0 && body[j].indexOf('==> ' + m[1]) !== 0; j--) if (body[j].indexOf('<== ') !== 0 && body[j].indexOf('==> ') !== 0) out.unshift(body[j]);
        r.failure = { step: m[1], error: m[2], tail: out.slice(-TAIL) };
        break;
      }
    }
    mark(r);
  }

`;
