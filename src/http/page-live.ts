// The status page's script, second half: events from /events applied to the repos, reconnecting and
// catching up from /api/status, the token and the actions, and the clock that ages the times shown.
// See page-script.ts for the first half and the rules both follow.

export const PAGE_LIVE = String.raw`
  function onEvent(e) {
    if (e.event === 'config-reloaded') return void refresh();
    if (e.event === 'daemon-stopping')
      return void repos.forEach(function (r) {
        if (r.s.phase === 'running') {
          r.s.phase = 'stopping';
          mark(r);
        }
      });
    var r = e.repo === undefined ? undefined : repos.get(e.repo);
    if (!r) {
      if (e.repo !== undefined && e.event === 'run-started') refresh();
      return;
    }
    var s = r.s;
    switch (e.event) {
      case 'run-started':
        s.phase = 'running';
        s.runCommit = e.commit;
        s.runSubject = e.subject || null;
        s.runStartedAt = e.time;
        s.step = null;
        s.stepStartedAt = null;
        s.paused = false;
        s.lastCheckError = null;
        s.unverified = null;
        r.lines = [];
        r.failure = null;
        r.waiting = '';
        break;
      case 'step-started':
        s.phase = 'running';
        s.step = e.step;
        s.stepStartedAt = e.time;
        break;
      case 'step-output':
        r.lines.push(e.line);
        if (r.lines.length > LINES) r.lines.splice(0, r.lines.length - LINES);
        break;
      case 'step-finished':
        if (e.status !== 'succeeded' && !e.ignored) r.failure = { step: e.step, error: e.error || e.status, tail: (e.tail || []).slice(-TAIL) };
        break;
      case 'run-finished':
        s.lastRun = { commit: e.commit, status: e.status, startedAt: s.runStartedAt || e.time, finishedAt: e.time, error: e.error, subject: s.runCommit === e.commit ? s.runSubject : null };
        if (e.status === 'succeeded' || e.status === 'skipped') s.commit = e.commit;
        if (e.status === 'succeeded') r.failure = null;
        r.runs = r.runs.concat([{ startedAt: s.lastRun.startedAt, commit: e.commit, durationMs: e.durationMs, status: e.status }]).slice(-BARS);
        s.phase = 'idle';
        s.runCommit = null;
        s.runSubject = null;
        s.runStartedAt = null;
        s.step = null;
        s.stepStartedAt = null;
        break;
      case 'run-skipped':
        s.commit = e.commit;
        s.unverified = null;
        s.lastRun = { commit: e.commit, status: 'skipped', startedAt: e.time, finishedAt: e.time, reason: e.reason };
        break;
      case 'run-queued':
        s.phase = 'queued';
        s.waitingFor = e.waitingFor;
        break;
      case 'up-to-date':
        s.commit = e.commit;
        s.unverified = null;
        s.lastCheckError = null;
        s.paused = false;
        r.waiting = '';
        if (!active(s)) s.phase = 'idle';
        break;
      case 'waiting':
        r.waiting = short(e.commit) + ' ' + e.reason;
        s.paused = false;
        break;
      case 'unverified':
        s.unverified = { commit: e.commit, reason: e.reason };
        s.lastCheckError = null;
        break;
      case 'check-failed':
      case 'turn-failed':
        s.lastCheckError = e.error;
        s.phase = 'backoff';
        break;
      case 'paused':
        s.paused = true;
        s.phase = 'paused';
        break;
      case 'disabled':
        s.enabled = false;
        s.phase = 'disabled';
        break;
      case 'target-gone':
        s.gone = true;
        break;
      default:
        return;
    }
    mark(r);
  }

  var source = null;
  var opened = false;
  function connect() {
    source = new EventSource('/events');
    source.onopen = function () {
      live.dataset.on = '1';
      live.textContent = 'live';
      // Whatever happened while no events came (the first load, or a dropped connection) is in the status.
      refresh();
      if (opened) loadRuns();
      opened = true;
    };
    source.onmessage = function (m) {
      var e;
      try {
        e = JSON.parse(m.data);
      } catch (_) {
        return;
      }
      onEvent(e);
    };
    source.onerror = function () {
      live.dataset.on = '0';
      live.textContent = 'reconnecting';
      // The browser retries by itself unless the server refused the stream; then start again a little later.
      if (source.readyState === 2) setTimeout(connect, 3000);
    };
  }

  function applyFilter() {
    var q = filter.value.trim().toLowerCase();
    repos.forEach(function (r, name) {
      if (r.el) r.el.hidden = q !== '' && name.toLowerCase().indexOf(q) === -1;
    });
  }
  filter.addEventListener('input', applyFilter);

  function say(text) {
    note.textContent = text;
  }

  var form = document.getElementById('token-form');
  var tokenInput = document.getElementById('token');
  if (form) {
    form.addEventListener('submit', function (ev) {
      ev.preventDefault();
      if (tokenInput.value) sessionStorage.setItem(TOKEN_KEY, tokenInput.value);
      tokenInput.value = '';
      say(sessionStorage.getItem(TOKEN_KEY) ? 'Token kept for this tab.' : '');
    });
  }

  list.addEventListener('click', function (ev) {
    var button = ev.target.closest ? ev.target.closest('button[data-act]') : null;
    if (!button) return;
    var token = sessionStorage.getItem(TOKEN_KEY);
    if (!token) {
      say('Enter the listen_token first.');
      if (tokenInput) tokenInput.focus();
      return;
    }
    var name = button.getAttribute('data-name');
    var act = button.getAttribute('data-act');
    fetch('/api/repos/' + encodeURIComponent(name) + '/' + act, { method: 'POST', headers: { Authorization: 'Bearer ' + token } })
      .then(function (res) {
        if (res.status === 202) say(act + ' ' + name + ': accepted');
        else if (res.status === 401) {
          sessionStorage.removeItem(TOKEN_KEY);
          say('The token was not accepted. Enter it again.');
          if (tokenInput) tokenInput.focus();
        } else say(act + ' ' + name + ': ' + res.status + ' ' + res.statusText);
        // Pause and resume say nothing on the event stream: the status does.
        if (res.status === 202 && (act === 'pause' || act === 'resume')) refresh();
      })
      .catch(function () {
        say(act + ' ' + name + ': no answer from gitwatch');
      });
  });

  function tick(all) {
    if (document.hidden) return;
    var q = all ? '[data-since],[data-ago],[data-until]' : '[data-since]';
    list.querySelectorAll(q).forEach(function (el) {
      if (el.dataset.since !== undefined) el.textContent = since(el.dataset.since);
      else if (el.dataset.ago !== undefined) el.textContent = ago(el.dataset.ago);
      else el.textContent = until(el.dataset.until);
    });
  }
  setInterval(function () {
    tick(false);
  }, 1000);
  setInterval(function () {
    tick(true);
  }, 15000);
  // A tab that comes back after a while catches up from the status: next checks moved without an event.
  var hiddenAt = 0;
  document.addEventListener('visibilitychange', function () {
    if (document.hidden) return void (hiddenAt = Date.now());
    tick(true);
    if (hiddenAt && Date.now() - hiddenAt > 30000) refresh();
  });

  apply(data.status);
  // When the repos are drawn: what the bench measures as the first paint that shows them.
  if (window.performance && performance.mark) performance.mark('gitwatch-drawn');
  connect();
  loadRuns();
  window.gitwatchPage = { repos: repos };
`;
