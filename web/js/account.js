/* account.html (authenticated) — GET/PATCH/DELETE /me, log out */
(function () {
  'use strict';
  var ER = window.ER;

  ER.onReady(function () {
    var box = document.getElementById('newsletter_opt_in');
    var status = document.getElementById('newsletter-status');
    var details = document.getElementById('account-details');
    var logoutBtn = document.getElementById('logout');
    var deleteBtn = document.getElementById('delete-account');
    var saved = false;

    function fill(me) {
      document.getElementById('account-id_number').textContent = me.id_number ? String(me.id_number) : '—';
      document.getElementById('account-candidate_name').textContent = me.candidate_name ? String(me.candidate_name) : '—';
      document.getElementById('account-email').textContent = me.email ? String(me.email) : '—';
      saved = me.newsletter_opt_in === true;
      box.checked = saved;
    }

    ER.api('GET', '/me').then(function (res) {
      details.setAttribute('aria-busy', 'false');
      if (res.status === 200 && res.body) {
        fill(res.body);
        box.disabled = false;
        return;
      }
      ER.showError(res);
    });

    box.addEventListener('change', function () {
      var wanted = box.checked;
      box.disabled = true;
      status.textContent = ER.t('account.newsletter.saving');
      ER.clearFieldErrors();
      ER.api('PATCH', '/me', { newsletter_opt_in: wanted }).then(function (res) {
        box.disabled = false;
        if (res.status === 200) {
          if (res.body && typeof res.body === 'object' && 'newsletter_opt_in' in res.body) { fill(res.body); } else { saved = wanted; }
          status.textContent = ER.t(saved ? 'account.newsletter.saved_on' : 'account.newsletter.saved_off');
          return;
        }
        box.checked = saved;
        status.textContent = ER.t('account.newsletter.not_saved');
        ER.showError(res);
      });
    });
    // The form has no submit button; never let Enter submit it natively.
    document.getElementById('newsletter-form').addEventListener('submit', function (ev) { ev.preventDefault(); });

    logoutBtn.addEventListener('click', function () {
      logoutBtn.disabled = true;
      ER.logout();
    });

    deleteBtn.addEventListener('click', function () {
      var ok = window.confirm(ER.t('account.delete.confirm'));
      if (!ok) { return; }
      deleteBtn.disabled = true;
      ER.api('DELETE', '/me').then(function (res) {
        if (res.status === 204 || res.status === 200) {
          ER.clearSession();
          ER.setFlash('success', ER.t('account.delete.done'));
          window.location.assign('index.html');
          return;
        }
        deleteBtn.disabled = false;
        ER.showError(res);
      });
    });
  });
}());
