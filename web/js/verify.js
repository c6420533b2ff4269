/* verify.html (organisations) — POST /verifications; the result prints on its own (style.css @media print) */
(function () {
  'use strict';
  var ER = window.ER;

  ER.onReady(function () {
    var form = document.getElementById('verify-form');
    var section = document.getElementById('verification');
    document.getElementById('verification-print').addEventListener('click', function () { window.print(); });

    ER.onSubmit(form, function () {
      ER.clearAlert();
      ER.clearFieldErrors();
      section.hidden = true;
      if (!ER.checkRequired(form, {
        id_number: ER.t('verify.error.id_number'),
        secret_number: ER.t('verify.error.secret_number')
      })) { return; }
      var payload = { id_number: ER.trimmed('id_number'), secret_number: ER.trimmed('secret_number') };
      return ER.api('POST', '/verifications', payload, { auth: false }).then(function (res) {
        if (res.status === 200 && res.body) {
          var b = res.body;
          var exam = b.exam || {};
          document.getElementById('verification-candidate_name').textContent = b.candidate_name ? String(b.candidate_name) : '—';
          var examText = exam.name ? String(exam.name) : '';
          if (exam.code) { examText = examText ? examText + ' (' + String(exam.code) + ')' : String(exam.code); }
          document.getElementById('verification-exam').textContent = examText || '—';
          var dateCell = document.getElementById('verification-exam_date');
          ER.clear(dateCell);
          dateCell.appendChild(b.exam_date ? ER.el('time', { datetime: String(b.exam_date), text: ER.formatDate(b.exam_date) }) : document.createTextNode('—'));
          var centre = b.centre || {};
          var centreText = centre.name ? String(centre.name) : '';
          if (centre.number) { centreText = centreText ? centreText + ' (' + String(centre.number) + ')' : String(centre.number); }
          document.getElementById('verification-centre').textContent = centreText || '—';
          // When this organisation checked it: the printout says so.
          var now = new Date().toISOString();
          var verifiedOn = document.getElementById('verification-verified-on');
          ER.clear(verifiedOn);
          ER.tNodes('verify.verified_on', {
            date: ER.el('time', { datetime: now, text: ER.formatInstant(now) })
          }).forEach(function (part) {
            verifiedOn.appendChild(typeof part === 'string' ? document.createTextNode(part) : part);
          });
          var holder = document.getElementById('verification-statement');
          ER.clear(holder);
          holder.appendChild(ER.statementTable({
            overall_score: b.overall_score,
            grade: b.grade,
            cefr_level: b.cefr_level,
            skills: b.skills
          }, ER.t('statement.caption')));
          section.hidden = false;
          section.focus();
          return;
        }
        ER.showError(res, {
          not_found: ER.t('verify.not_found'),
          '404': ER.t('verify.not_found'),
          too_many_attempts: function (r) {
            return ER.t('verify.too_many', { try_again: ER.tryAgainText(r.headers) });
          },
          '429': function (r) {
            return ER.t('verify.too_many', { try_again: ER.tryAgainText(r.headers) });
          }
        });
      });
    });
  });
}());
