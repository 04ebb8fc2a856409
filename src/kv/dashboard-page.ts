/**
 * `GET /`: the live dashboard, one self-contained HTML page (inline CSS and JS, no external
 * assets, no build step). It polls `GET /cluster` about once a second and shows the replicas
 * (up or down, addresses, what they lead), per shard the leader, term, indexes and each
 * replica's lag, snapshot activity, and the quorum health in plain words, with a short log of
 * what changed (leaders, terms, replicas going down or up, snapshots, quorum).
 *
 * The elements carry `data-*` attributes (`data-replica`, `data-up`, `data-shard`,
 * `data-leader`, `data-quorum`) so a browser test can read the state without parsing text.
 */
import type { Reply } from './http-reply.js';

const STYLE = `
:root { --bg:#f5f6f8; --card:#fff; --ink:#1d232b; --mute:#6a7380; --line:#e1e4e9;
  --ok:#1f8a4c; --okbg:#e6f5ec; --warn:#a66300; --warnbg:#fff3dc; --bad:#c0262d; --badbg:#fde8e8;
  --lead:#3b4fd8; --leadbg:#e8ebff; }
* { box-sizing: border-box; }
body { margin:0; font:14px/1.45 system-ui,-apple-system,"Segoe UI",Roboto,sans-serif; color:var(--ink); background:var(--bg); }
header { display:flex; align-items:center; gap:16px; padding:10px 20px; background:#1d232b; color:#fff; }
header h1 { font-size:17px; margin:0; font-weight:600; letter-spacing:.2px; }
header .sub { color:#b8c0cc; font-size:13px; }
header .live { margin-left:auto; display:flex; align-items:center; gap:8px; font-size:13px; color:#cfd6df; }
.dot { width:10px; height:10px; border-radius:50%; background:var(--ok); }
.dot.stale { background:var(--bad); }
main { padding:14px 20px 24px; max-width:1400px; margin:0 auto; }
h2 { font-size:13px; text-transform:uppercase; letter-spacing:.8px; color:var(--mute); margin:16px 0 8px; font-weight:600; }
.banner { padding:9px 12px; border-radius:6px; background:var(--badbg); color:var(--bad); font-weight:600; margin-bottom:8px; }
.replicas { display:grid; grid-template-columns:repeat(auto-fill,minmax(270px,1fr)); gap:10px; }
.card { background:var(--card); border:1px solid var(--line); border-radius:8px; padding:10px 12px; }
.card.down { background:#fafafa; border-color:#f1c4c6; }
.card .top { display:flex; align-items:center; gap:8px; margin-bottom:4px; white-space:nowrap; }
.card .name { font-size:16px; font-weight:650; }
.pill { display:inline-block; padding:1px 8px; border-radius:999px; font-size:12px; font-weight:600; }
.pill.up { background:var(--okbg); color:var(--ok); }
.pill.down { background:var(--badbg); color:var(--bad); }
.pill.leader { background:var(--leadbg); color:var(--lead); }
.pill.follower { background:#eef0f3; color:var(--mute); }
.pill.self { background:#eef0f3; color:var(--ink); font-weight:500; }
.kv { color:var(--mute); font-size:12.5px; }
.kv b { color:var(--ink); font-weight:500; font-family:ui-monospace,SFMono-Regular,Menlo,monospace; font-size:12px; }
.err { color:var(--bad); font-size:12.5px; }
.shard { background:var(--card); border:1px solid var(--line); border-radius:8px; padding:12px 14px; margin-bottom:12px; }
.shard .head { display:flex; flex-wrap:wrap; align-items:baseline; gap:18px; margin-bottom:8px; }
.shard .head .title { font-size:16px; font-weight:650; }
.stat { color:var(--mute); font-size:13px; }
.stat b { color:var(--ink); font-size:15px; font-variant-numeric:tabular-nums; }
.quorum { padding:8px 12px; border-radius:6px; font-weight:600; margin-bottom:10px; }
.quorum.ok { background:var(--okbg); color:var(--ok); }
.quorum.warn { background:var(--warnbg); color:var(--warn); }
.quorum.bad { background:var(--badbg); color:var(--bad); }
.quorum.unknown { background:#eef0f3; color:var(--mute); }
table { width:100%; border-collapse:collapse; font-variant-numeric:tabular-nums; }
th { text-align:right; font-weight:600; color:var(--mute); font-size:12px; padding:4px 8px; border-bottom:1px solid var(--line); white-space:nowrap; }
td { text-align:right; padding:5px 8px; border-bottom:1px solid #f0f1f4; white-space:nowrap; }
th:first-child, td:first-child, th:nth-child(2), td:nth-child(2) { text-align:left; }
tr.down td { color:#a4abb5; }
.lag { display:inline-flex; align-items:center; gap:6px; justify-content:flex-end; }
.bar { width:70px; height:7px; background:#eef0f3; border-radius:4px; overflow:hidden; }
.bar i { display:block; height:100%; background:var(--ok); }
.bar.warn i { background:#e0a030; } .bar.bad i { background:var(--bad); }
.events { background:var(--card); border:1px solid var(--line); border-radius:8px; padding:6px 12px; max-height:210px; overflow:auto;
  font-family:ui-monospace,SFMono-Regular,Menlo,monospace; font-size:12.5px; }
.events div { padding:2px 0; border-bottom:1px dashed #f0f1f4; }
.events .t { color:var(--mute); margin-right:10px; }
.note { color:var(--mute); font-size:12.5px; margin-top:6px; }
footer { color:var(--mute); font-size:12px; padding:0 20px 16px; max-width:1400px; margin:0 auto; }
`;

/* The page's script. Plain ES2017 in a string: no template literals inside (this file's own
   literal would take them), text always through textContent. */
const SCRIPT = `
'use strict';
var POLL_MS = 1000;
var prev = null, lastOk = 0, lastError = null, events = [], downSince = {}, lastSnap = {}, lastData = null;

function el(tag, attrs, kids) {
  var e = document.createElement(tag);
  if (attrs) for (var k in attrs) {
    if (attrs[k] === null || attrs[k] === undefined) continue;
    if (k === 'class') e.className = attrs[k]; else if (k === 'text') e.textContent = attrs[k]; else e.setAttribute(k, String(attrs[k]));
  }
  (kids || []).forEach(function (c) { if (c !== null && c !== undefined) e.appendChild(typeof c === 'string' ? document.createTextNode(c) : c); });
  return e;
}
function num(n) { return n === null || n === undefined ? '\\u2013' : Number(n).toLocaleString('en-US'); }
function ago(ms) {
  var s = Math.max(0, Math.round(ms / 1000));
  if (s < 60) return s + ' s ago';
  if (s < 3600) return Math.floor(s / 60) + ' min ago';
  return Math.floor(s / 3600) + ' h ago';
}
function plural(n, one, many) { return n + ' ' + (n === 1 ? one : many); }
function clock() { var d = new Date(); return d.toTimeString().slice(0, 8); }
function log(text) { events.unshift({ t: clock(), text: text }); if (events.length > 60) events.length = 60; }

function quorumView(sh, byId) {
  var name = 'Shard ' + sh.shardId;
  if (sh.leaderId === 0) return { level: 'bad', text: name + ': no leader \\u2014 an election is under way, or the quorum is lost.' };
  var q = sh.quorum;
  if (!q) {
    var lr = byId[sh.leaderId];
    if (lr && !lr.up) return { level: 'bad', text: name + ': its last known leader, replica ' + sh.leaderId + ', is down \\u2014 waiting for a new election.' };
    return { level: 'unknown', text: name + ': leader is replica ' + sh.leaderId + ', whose quorum view this page cannot reach (add its HTTP address with --peer-http).' };
  }
  var counts = q.active.length + ' of ' + q.voters + ' voters answering, ' + q.quorum + ' needed';
  var lost = q.lost.length ? '; not heard from: replica ' + q.lost.join(', ') : '';
  if (q.failuresToLoss <= 0) return { level: 'bad', text: name + ': quorum lost \\u2014 ' + counts + lost + '.' };
  if (q.failuresToLoss === 1) return { level: 'warn', text: name + ': one failure away from losing quorum (' + counts + lost + ').' };
  var spare = q.failuresToLoss - 1;
  return { level: 'ok', text: name + ': healthy \\u2014 can lose ' + plural(spare, 'replica', 'replicas') + ' and keep its quorum (' + counts + lost + ').' };
}

function diff(a, b) {
  var now = Date.now();
  b.replicas.forEach(function (r) {
    if (!r.up && downSince[r.replicaId] === undefined) downSince[r.replicaId] = now;
    if (r.up) delete downSince[r.replicaId];
  });
  if (!a) { log('watching ' + plural(b.replicas.length, 'replica', 'replicas') + ' from replica ' + b.servedBy); return; }
  var ar = {}; a.replicas.forEach(function (r) { ar[r.replicaId] = r; });
  b.replicas.forEach(function (r) {
    var o = ar[r.replicaId];
    if (o && o.up && !r.up) log('replica ' + r.replicaId + ' is down (' + r.error + ')');
    if (o && !o.up && r.up) log('replica ' + r.replicaId + ' is back');
    if (!o) log('replica ' + r.replicaId + ' appeared');
  });
  var as = {}; a.shards.forEach(function (s) { as[s.shardId] = s; });
  b.shards.forEach(function (s) {
    var o = as[s.shardId];
    if (!o) return;
    var ol = o.leaders.length ? o.leaders[0] : 0, nl = s.leaders.length ? s.leaders[0] : 0;
    if (nl !== ol && nl !== 0) log('shard ' + s.shardId + ': replica ' + nl + ' became leader (term ' + s.term + ')');
    else if (s.term > o.term) log('shard ' + s.shardId + ': term ' + s.term + ' began (election)');
    var ql = quorumView(s, {}).level, oq = quorumView(o, {}).level;
    if (ql !== oq && s.quorum && o.quorum) log(quorumView(s, {}).text);
    var orows = {}; o.replicas.forEach(function (x) { orows[x.replicaId] = x; });
    s.replicas.forEach(function (x) {
      var y = orows[x.replicaId];
      if (!y || !x.activity || !y.activity) return;
      if (x.snapshotIndex !== null && y.snapshotIndex !== null && x.snapshotIndex > y.snapshotIndex) {
        var how = x.activity.snapshotsReceived > y.activity.snapshotsReceived ? 'received a snapshot from the leader' : 'took a snapshot';
        log('shard ' + s.shardId + ': replica ' + x.replicaId + ' ' + how + ' at index ' + num(x.snapshotIndex));
        lastSnap[s.shardId + '/' + x.replicaId] = now;
      }
      if (x.activity.snapshotsSent > y.activity.snapshotsSent) log('shard ' + s.shardId + ': replica ' + x.replicaId + ' sent a snapshot to a follower');
      if (x.activity.snapshotSendFailures > y.activity.snapshotSendFailures) log('shard ' + s.shardId + ': replica ' + x.replicaId + ' failed to send a snapshot');
    });
  });
}

function replicaCard(r, c) {
  var st = r.up ? r.status : null;
  var roles = [];
  if (st) st.shards.forEach(function (s) {
    roles.push(el('span', { class: 'pill ' + (s.isLeader ? 'leader' : 'follower'), text: (s.isLeader ? 'leader' : s.role) + (c.shards.length > 1 ? ' of shard ' + s.shardId : '') }));
    roles.push(' ');
  });
  var leads = st ? st.shards.filter(function (s) { return s.isLeader; }).map(function (s) { return s.shardId; }) : [];
  return el('div', { class: 'card' + (r.up ? '' : ' down'), 'data-replica': r.replicaId, 'data-up': r.up, 'data-leads': leads.join(',') }, [
    el('div', { class: 'top' }, [
      el('span', { class: 'name', text: 'Replica ' + r.replicaId }),
      el('span', { class: 'pill ' + (r.up ? 'up' : 'down'), text: r.up ? 'up' : 'down' }),
      r.self ? el('span', { class: 'pill self', text: 'this page' }) : null,
    ]),
    el('div', { class: 'kv' }, ['http ', el('b', { text: r.httpAddress })]),
    st ? el('div', { class: 'kv' }, ['raft ', el('b', { text: st.raftAddress })]) : null,
    r.up
      ? el('div', { style: 'margin-top:5px' }, roles.concat([el('span', { class: 'kv', text: r.self ? '' : ' answered in ' + r.latencyMs + ' ms' })]))
      : el('div', { class: 'err', text: r.error + (downSince[r.replicaId] ? ' \\u00b7 down since ' + ago(Date.now() - downSince[r.replicaId]) : '') }),
  ]);
}

function lagCell(lag, commit) {
  if (lag === null) return el('td', { text: '\\u2013' });
  var cls = lag === 0 ? '' : lag < 100 ? 'warn' : 'bad';
  var w = lag === 0 ? 100 : Math.max(4, 100 - Math.min(96, Math.log10(lag + 1) * 30));
  return el('td', null, [el('span', { class: 'lag' }, [
    el('span', { text: lag === 0 ? 'in sync' : num(lag) + ' behind' }),
    el('span', { class: 'bar ' + cls, title: 'applied vs the leader\\u2019s commit ' + num(commit) }, [el('i', { style: 'width:' + w + '%' })]),
  ])]);
}

function shardPanel(sh, c, byId) {
  var q = quorumView(sh, byId);
  var voterIds = Object.keys(sh.voters);
  var rows = sh.replicas.map(function (x) {
    var a = x.activity;
    var snapAt = lastSnap[sh.shardId + '/' + x.replicaId];
    return el('tr', { class: x.up ? '' : 'down', 'data-row': x.replicaId }, [
      el('td', { text: 'replica ' + x.replicaId }),
      el('td', null, [x.up ? el('span', { class: 'pill ' + (x.isLeader ? 'leader' : 'follower'), text: x.isLeader ? 'leader' : (x.role || 'not a member') }) : el('span', { class: 'pill down', text: 'down' })]),
      el('td', { text: num(x.term) }),
      el('td', { text: num(x.commitIndex) }),
      el('td', { text: num(x.appliedIndex) }),
      lagCell(x.lag, sh.commitIndex),
      el('td', { text: num(x.snapshotIndex) }),
      el('td', { text: num(x.firstLogIndex) }),
      el('td', { text: num(x.lastLogIndex) }),
      el('td', { text: a ? a.snapshotsTaken + ' / ' + a.snapshotsSent + ' / ' + a.snapshotsReceived : '\\u2013' }),
      el('td', { text: snapAt ? ago(Date.now() - snapAt) : '\\u2013' }),
    ]);
  });
  var known = {}; sh.replicas.forEach(function (x) { known[x.replicaId] = true; });
  var unknown = voterIds.filter(function (id) { return !known[id]; });
  return el('section', { class: 'shard', 'data-shard': sh.shardId, 'data-leader': sh.leaders.length === 1 ? sh.leaders[0] : 0, 'data-term': sh.term, 'data-quorum': q.level }, [
    el('div', { class: 'head' }, [
      el('span', { class: 'title', text: 'Shard ' + sh.shardId }),
      el('span', { class: 'stat' }, ['leader ', el('b', { text: sh.leaderId ? 'replica ' + sh.leaderId : 'none' })]),
      el('span', { class: 'stat' }, ['term ', el('b', { text: num(sh.term) })]),
      el('span', { class: 'stat' }, ['commit ', el('b', { text: num(sh.commitIndex) })]),
      el('span', { class: 'stat' }, ['voters ', el('b', { text: voterIds.join(', ') || '\\u2013' })]),
      sh.leaders.length > 1 ? el('span', { class: 'err', text: 'replicas ' + sh.leaders.join(', ') + ' both say they lead (an old term is ending)' }) : null,
    ]),
    el('div', { class: 'quorum ' + q.level, text: q.text }),
    el('table', null, [
      el('thead', null, [el('tr', null, ['replica', 'role', 'term', 'commit', 'applied', 'lag', 'snapshot', 'first log', 'last log', 'snapshots taken / sent / received', 'last snapshot seen'].map(function (h) { return el('th', { text: h }); }))]),
      el('tbody', null, rows),
    ]),
    unknown.length ? el('div', { class: 'note', text: 'Also voters: replica ' + unknown.join(', ') + ' (raft ' + unknown.map(function (id) { return sh.voters[id]; }).join(', ') + ') \\u2014 no HTTP address known here; start this replica with --peer-http to see them.' }) : null,
  ]);
}

function render(c) {
  var byId = {}; c.replicas.forEach(function (r) { byId[r.replicaId] = r; });
  var up = c.replicas.filter(function (r) { return r.up; }).length;
  var root = document.getElementById('root');
  var kids = [];
  if (lastError) kids.push(el('div', { class: 'banner', text: 'Replica ' + c.servedBy + ' (serving this page) is not answering: ' + lastError + '. Showing what it last reported.' }));
  kids.push(el('h2', { text: 'Replicas \\u00b7 ' + up + ' of ' + c.replicas.length + ' up' }));
  kids.push(el('div', { class: 'replicas', id: 'replicas' }, c.replicas.map(function (r) { return replicaCard(r, c); })));
  kids.push(el('h2', { text: 'Shards \\u00b7 ' + c.shards.length }));
  c.shards.forEach(function (sh) { kids.push(shardPanel(sh, c, byId)); });
  kids.push(el('h2', { text: 'Activity' }));
  kids.push(el('div', { class: 'events', id: 'events' }, events.map(function (e) { return el('div', null, [el('span', { class: 't', text: e.t }), e.text]); })));
  root.replaceChildren.apply(root, kids);
  document.getElementById('sub').textContent = 'served by replica ' + c.servedBy + ' \\u00b7 ' + plural(c.replicas.length, 'replica', 'replicas') + ' \\u00b7 ' + plural(c.shards.length, 'shard', 'shards');
  var leaders = c.shards.map(function (s) { return s.leaderId ? 'shard ' + s.shardId + ': ' + s.leaderId : 'shard ' + s.shardId + ': none'; });
  document.title = 'sampan \\u00b7 ' + up + '/' + c.replicas.length + ' up \\u00b7 leader ' + leaders.join(', ');
}

function tickClock() {
  var live = document.getElementById('live'), dot = document.getElementById('dot');
  var stale = lastOk === 0 || Date.now() - lastOk > 3 * POLL_MS;
  dot.className = 'dot' + (stale ? ' stale' : '');
  live.textContent = lastOk === 0 ? 'connecting\\u2026' : (stale ? 'no answer \\u00b7 ' : 'live \\u00b7 ') + 'updated ' + ago(Date.now() - lastOk);
}

function poll() {
  fetch('/cluster', { cache: 'no-store', signal: AbortSignal.timeout(4000) })
    .then(function (r) { if (!r.ok) throw new Error('HTTP ' + r.status); return r.json(); })
    .then(function (c) { diff(prev, c); prev = c; lastData = c; lastOk = Date.now(); lastError = null; render(c); })
    .catch(function (e) { lastError = (e && e.message) || String(e); if (lastData) render(lastData); })
    .then(function () { tickClock(); setTimeout(poll, POLL_MS); });
}
setInterval(tickClock, 500);
poll();
`;

/** The dashboard page. */
export const DASHBOARD_HTML = `<!doctype html>
<html lang="en">
<head>
<meta charset="utf-8">
<meta name="viewport" content="width=device-width, initial-scale=1">
<link rel="icon" href="data:,">
<title>sampan dashboard</title>
<style>${STYLE}</style>
</head>
<body>
<header><h1>sampan</h1><span class="sub" id="sub">cluster dashboard</span>
<span class="live"><span class="dot stale" id="dot"></span><span id="live">connecting…</span></span></header>
<main id="root"><p class="note">Loading the cluster view from <code>/cluster</code>…</p></main>
<footer>Polls <code>GET /cluster</code> every second; the serving replica asks each replica it knows (<code>--peer-http</code>) for <code>/status</code>, each within a bounded wait. Lag: the leader's commit index minus the replica's applied index.</footer>
<script>${SCRIPT}</script>
</body>
</html>
`;

const PAGE = Buffer.from(DASHBOARD_HTML);

/** `GET /`: the dashboard page. */
export function getDashboard(): Reply {
  return { status: 200, body: PAGE, contentType: 'text/html; charset=utf-8' };
}
