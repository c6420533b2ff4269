/* results.html (authenticated) — GET /me, GET /me/results and the Statement of Results PDF */
(function () {
  'use strict';
  var ER = window.ER;
  var el = ER.el;

  function timeEl(iso, text) {
    return el('time', { datetime: String(iso), text: text });
  }

  function centreText(centre) {
    centre = centre || {};
    var name = centre.name ? String(centre.name) : 'your centre';
    return centre.number ? name + ' (' + String(centre.number) + ')' : name;
  }

  function pendingBlock(item) {
    var iso = item.results_available_by;
    var block = el('div', { 'class': 'status status--pending', 'data-status': 'pending' });
    if (!iso) {
      block.appendChild(el('p', { text: 'Your results are not released yet. We will email you when they are available.' }));
      return block;
    }
    var uk = ER.formatInstant(iso, 'Europe/London');
    var local = ER.formatInstant(iso);
    var zone = ER.localTimeZoneName();
    block.appendChild(el('p', null, [
      'Results available by ', el('strong', null, timeEl(iso, uk)), ' (UK time).'
    ]));
    var localP = el('p', { 'class': 'local-time' }, [
      'In your local time' + (zone ? ' (' + zone + ')' : '') + ': ', timeEl(iso, local), '.'
    ]);
    block.appendChild(localP);
    block.appendChild(el('p', { text: 'We will email you when your results are available.' }));
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
    if (!session) { ER.goToLogin('Your session has ended. Please log in again.'); return; }
    ER.clearAlert();
    button.disabled = true;
    status.textContent = 'Preparing your Statement of Results…';
    var path = '/me/results/' + encodeURIComponent(String(item.session_id)) + '/statement';
    window.fetch(ER.apiBase() + path, {
      method: 'GET',
      headers: { 'Accept': 'application/pdf', 'Authorization': 'Bearer ' + session.token },
      credentials: 'same-origin',
      cache: 'no-store'
    }).then(function (res) {
      var type = res.headers.get('Content-Type') || '';
      if (res.status === 200 && type.indexOf('application/pdf') === 0) {
        return res.blob().then(function (blob) {
          saveBlob(blob, statementFilename(res, item.session_id));
          status.textContent = 'Your Statement of Results has been downloaded.';
        });
      }
      if (res.status === 401) { ER.goToLogin('Your session has ended. Please log in again.'); return null; }
      return res.text().then(function (text) {
        var body = null;
        try { body = JSON.parse(text); } catch (e) { body = null; }
        status.textContent = '';
        ER.showError({ status: res.status, body: body, headers: res.headers }, {
          not_found: 'This Statement of Results is not available. Reload the page and try again.'
        });
      });
    }, function () {
      status.textContent = '';
      ER.showError({ status: 0, body: null, headers: new Headers() });
    }).then(function () { button.disabled = false; });
  }

  function downloadBlock(item) {
    var status = el('span', { 'class': 'download-status', role: 'status' });
    var button = el('button', { type: 'button', 'class': 'button--secondary download-statement', text: 'Download (PDF)' });
    button.setAttribute('aria-describedby', 'statement-hint-' + String(item.session_id));
    button.addEventListener('click', function () { downloadStatement(item, button, status); });
    return el('p', { 'class': 'download no-print' }, [
      button, ' ',
      el('span', { 'class': 'hint', id: 'statement-hint-' + String(item.session_id), text: 'Statement of Results, to keep or print.' }),
      ' ', status
    ]);
  }

  function releasedBlock(item) {
    var block = el('div', { 'class': 'status status--released', 'data-status': 'released' });
    var statement = item.statement;
    if (!statement || typeof statement !== 'object') {
      block.appendChild(el('p', { text: 'Your results have been released, but we cannot show them right now. Try again later.' }));
      return block;
    }
    block.appendChild(el('p', { text: 'Your results are available.' }));
    var section = el('div', { 'class': 'statement-of-results' });
    section.appendChild(ER.statementTable(statement, 'Statement of Results'));
    var cert = item.certificate && item.certificate.expected_at_centre_by;
    var frag = [block, section];
    if (cert) {
      frag.push(el('p', { 'class': 'certificate' }, [
        'Certificate expected at your centre by ', el('strong', null, timeEl(cert, ER.formatDate(cert))), '.'
      ]));
    }
    if (item.session_id) { frag.push(downloadBlock(item)); }
    return frag;
  }

  function overdueBlock(item) {
    var block = el('div', { 'class': 'status status--overdue', 'data-status': 'overdue' });
    block.appendChild(el('p', null, [
      'Your result is not available yet — please contact your centre ',
      el('strong', { text: centreText(item.centre) }), '.'
    ]));
    block.appendChild(el('p', null, [el('a', { href: 'help.html#overdue', text: 'Why has my result not arrived?' })]));
    return block;
  }

  function renderItem(item) {
    item = item || {};
    var exam = item.exam || {};
    var examName = exam.name || exam.code || 'Exam';
    var article = el('article', {
      'class': 'panel result-item',
      'data-session-id': item.session_id || null,
      'data-status': item.status || null
    });
    article.appendChild(el('h2', { text: String(examName) }));

    var dl = el('dl', { 'class': 'details' });
    function row(label, value) {
      dl.appendChild(el('dt', { text: label }));
      dl.appendChild(el('dd', null, value));
    }
    row('ID Number', item.id_number ? String(item.id_number) : '—');
    row('Candidate number', item.candidate_number ? String(item.candidate_number) : '—');
    row('Session', item.session_id ? String(item.session_id) : '—');
    row('Format', ER.formatFormat(item.format));
    row('Exam date', item.exam_date ? timeEl(item.exam_date, ER.formatDate(item.exam_date)) : '—');
    row('Centre', centreText(item.centre));
    article.appendChild(dl);

    var block;
    if (item.status === 'pending') { block = pendingBlock(item); }
    else if (item.status === 'released') { block = releasedBlock(item); }
    else if (item.status === 'overdue') { block = overdueBlock(item); }
    else { block = el('p', { text: 'Status: ' + String(item.status || 'unknown') }); }
    (Array.isArray(block) ? block : [block]).forEach(function (b) { article.appendChild(b); });
    return article;
  }

  ER.onReady(function () {
    var container = document.getElementById('results');
    var greeting = document.getElementById('greeting');

    ER.api('GET', '/me').then(function (res) {
      if (res.status === 200 && res.body && res.body.candidate_name) {
        greeting.textContent = 'Hello, ' + String(res.body.candidate_name) + '.';
      }
    });

    ER.api('GET', '/me/results').then(function (res) {
      ER.clear(container);
      container.setAttribute('aria-busy', 'false');
      if (res.status !== 200 || !res.body) {
        container.appendChild(el('p', { text: 'We could not load your results.' }));
        ER.showError(res);
        return;
      }
      var items = Array.isArray(res.body.results) ? res.body.results : [];
      if (!items.length) {
        container.appendChild(el('p', { text: 'There are no exam entries linked to your account yet.' }));
        return;
      }
      items.forEach(function (item) { container.appendChild(renderItem(item)); });
    });
  });
}());
