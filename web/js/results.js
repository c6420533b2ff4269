/* results.html (authenticated) — GET /me, GET /me/results and the Statement of Results PDF */
(function () {
  'use strict';
  var ER = window.ER;
  var el = ER.el;

  function timeEl(iso, text) {
    return el('time', { datetime: String(iso), text: text });
  }

  /* A centre's name and number are data, never translated (translate="no"). */
  function centreText(centre) {
    centre = centre || {};
    if (!centre.name && !centre.number) { return ER.t('results.your_centre'); }
    var name = centre.name ? String(centre.name) : '';
    return centre.number ? (name ? name + ' (' + String(centre.number) + ')' : String(centre.number)) : name;
  }
  function centreEl(centre, tag) {
    centre = centre || {};
    var known = !!(centre.name || centre.number);
    return el(tag || 'span', { text: centreText(centre), translate: known ? 'no' : null });
  }
  function dataEl(v) {
    return (v === null || v === undefined || v === '') ? '—' : el('span', { translate: 'no', text: String(v) });
  }

  function pendingBlock(item) {
    var iso = item.results_available_by;
    var block = el('div', { 'class': 'status status--pending', 'data-status': 'pending' });
    if (!iso) {
      block.appendChild(el('p', { text: ER.t('results.pending.no_date') }));
      return block;
    }
    var uk = ER.formatInstant(iso, 'Europe/London');
    var local = ER.formatInstant(iso);
    var zone = ER.localTimeZoneName();
    block.appendChild(el('p', null, ER.tNodes('results.pending.by', { date: el('strong', null, timeEl(iso, uk)) })));
    var localP = el('p', { 'class': 'local-time' }, zone
      ? ER.tNodes('results.pending.local_zone', { zone: el('span', { translate: 'no', text: zone }), date: timeEl(iso, local) })
      : ER.tNodes('results.pending.local', { date: timeEl(iso, local) }));
    block.appendChild(localP);
    block.appendChild(el('p', { text: ER.t('results.pending.email') }));
    return block;
  }

  /* The session token lives in sessionStorage, so a plain link cannot carry it: the PDF is fetched
     with the bearer token (Accept: application/pdf, which API Gateway answers in bytes) and saved
     through a temporary object URL. */
  function statementFilename(res, sessionId) {
    var header = res.headers.get('Content-Disposition') || '';
    var m = /filename="([A-Za-z0-9._-]+)"/.exec(header);
    return m ? m[1] : 'statement-of-results-' + String(sessionId).replace(/[^A-Za-z0-9_-]/g, '-') + '.pdf';
  }

  function saveBlob(blob, filename) {
    var url = URL.createObjectURL(blob);
    var link = el('a', { href: url, download: filename, hidden: 'hidden' });
    document.body.appendChild(link);
    link.click();
    document.body.removeChild(link);
    window.setTimeout(function () { URL.revokeObjectURL(url); }, 10000);
  }

  function downloadStatement(item, button, status) {
    var session = ER.getSession();
    if (!session) { ER.goToLogin(ER.t('session.ended')); return; }
    ER.clearAlert();
    button.disabled = true;
    status.textContent = ER.t('results.download.preparing');
    var path = '/me/results/' + encodeURIComponent(String(item.session_id)) + '/statement';
    window.fetch(ER.apiBase() + path, {
      method: 'GET',
      headers: { 'Accept': 'application/pdf', 'Accept-Language': ER.language(), 'Authorization': 'Bearer ' + session.token },
      credentials: 'same-origin',
      cache: 'no-store'
    }).then(function (res) {
      var type = res.headers.get('Content-Type') || '';
      if (res.status === 200 && type.indexOf('application/pdf') === 0) {
        return res.blob().then(function (blob) {
          saveBlob(blob, statementFilename(res, item.session_id));
          status.textContent = ER.t('results.download.done');
        });
      }
      if (res.status === 401) { ER.goToLogin(ER.t('session.ended')); return null; }
      return res.text().then(function (text) {
        var body = null;
        try { body = JSON.parse(text); } catch (e) { body = null; }
        status.textContent = '';
        ER.showError({ status: res.status, body: body, headers: res.headers }, {
          not_found: ER.t('results.download.not_found')
        });
      });
    }, function () {
      status.textContent = '';
      ER.showError({ status: 0, body: null, headers: new Headers() });
    }).then(function () { button.disabled = false; });
  }

  function downloadBlock(item) {
    var status = el('span', { 'class': 'download-status', role: 'status' });
    var button = el('button', { type: 'button', 'class': 'button--secondary download-statement', text: ER.t('results.download') });
    button.setAttribute('aria-describedby', 'statement-hint-' + String(item.session_id));
    button.addEventListener('click', function () { downloadStatement(item, button, status); });
    return el('p', { 'class': 'download no-print' }, [
      button, ' ',
      el('span', { 'class': 'hint', id: 'statement-hint-' + String(item.session_id), text: ER.t('results.download.hint') }),
      ' ', status
    ]);
  }

  function releasedBlock(item) {
    var block = el('div', { 'class': 'status status--released', 'data-status': 'released' });
    var statement = item.statement;
    if (!statement || typeof statement !== 'object') {
      block.appendChild(el('p', { text: ER.t('results.released.missing') }));
      return block;
    }
    block.appendChild(el('p', { text: ER.t('results.released') }));
    var section = el('div', { 'class': 'statement-of-results' });
    section.appendChild(ER.statementTable(statement, ER.t('statement.caption')));
    var cert = item.certificate && item.certificate.expected_at_centre_by;
    var frag = [block, section];
    if (cert) {
      frag.push(el('p', { 'class': 'certificate' },
        ER.tNodes('results.certificate', { date: el('strong', null, timeEl(cert, ER.formatDate(cert))) })));
    }
    if (item.session_id) { frag.push(downloadBlock(item)); }
    return frag;
  }

  function overdueBlock(item) {
    var block = el('div', { 'class': 'status status--overdue', 'data-status': 'overdue' });
    block.appendChild(el('p', null, ER.tNodes('results.overdue', { centre: centreEl(item.centre, 'strong') })));
    block.appendChild(el('p', null, [el('a', { href: 'help.html#overdue', text: ER.t('results.overdue.why') })]));
    return block;
  }

  function renderItem(item) {
    item = item || {};
    var exam = item.exam || {};
    var examName = exam.name || exam.code || '';
    var article = el('article', {
      'class': 'panel result-item',
      'data-session-id': item.session_id || null,
      'data-status': item.status || null
    });
    article.appendChild(el('h2', examName ? { text: String(examName), translate: 'no' } : { text: ER.t('results.exam') }));

    var dl = el('dl', { 'class': 'details' });
    function row(label, value) {
      dl.appendChild(el('dt', { text: label }));
      dl.appendChild(el('dd', null, value));
    }
    row(ER.t('field.id_number'), dataEl(item.id_number));
    row(ER.t('results.candidate_number'), dataEl(item.candidate_number));
    row(ER.t('results.session'), dataEl(item.session_id));
    row(ER.t('results.format'), ER.formatFormat(item.format));
    row(ER.t('results.exam_date'), item.exam_date ? timeEl(item.exam_date, ER.formatDate(item.exam_date)) : '—');
    row(ER.t('results.centre'), centreEl(item.centre));
    article.appendChild(dl);

    var block;
    if (item.status === 'pending') { block = pendingBlock(item); }
    else if (item.status === 'released') { block = releasedBlock(item); }
    else if (item.status === 'overdue') { block = overdueBlock(item); }
    else { block = el('p', { text: ER.t('results.status.unknown') }); }
    (Array.isArray(block) ? block : [block]).forEach(function (b) { article.appendChild(b); });
    return article;
  }

  ER.onReady(function () {
    var container = document.getElementById('results');
    var greeting = document.getElementById('greeting');

    ER.api('GET', '/me').then(function (res) {
      if (res.status === 200 && res.body && res.body.candidate_name) {
        ER.clear(greeting);
        ER.tNodes('results.greeting', { name: el('span', { translate: 'no', text: String(res.body.candidate_name) }) })
          .forEach(function (part) { greeting.appendChild(typeof part === 'string' ? document.createTextNode(part) : part); });
      }
    });

    ER.api('GET', '/me/results').then(function (res) {
      ER.clear(container);
      container.setAttribute('aria-busy', 'false');
      if (res.status !== 200 || !res.body) {
        container.appendChild(el('p', { text: ER.t('results.load_failed') }));
        ER.showError(res);
        return;
      }
      var items = Array.isArray(res.body.results) ? res.body.results : [];
      if (!items.length) {
        container.appendChild(el('p', { text: ER.t('results.none') }));
        return;
      }
      items.forEach(function (item) { container.appendChild(renderItem(item)); });
    });
  });
}());
