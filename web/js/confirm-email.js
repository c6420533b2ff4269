/* confirm-email.html?token=… — POST /me/email/confirmations (the link sent to a new address) */
(function () {
  'use strict';
  var ER = window.ER;

  ER.onReady(function () {
    var token = ER.queryParam('token');
    ER.stripQuery(); // keep the one-time token out of history and referrers
    var status = document.getElementById('confirm-status');
    var success = document.getElementById('confirm-success');
    var address = document.getElementById('confirmed-email');

    function invalid() {
      status.textContent = ER.t('confirm_email.invalid');
      ER.showAlert('error', [
        ER.t('confirm_email.invalid.alert'),
        ER.el('p', null, ER.tNodes('confirm_email.invalid.more', {
          link: ER.el('a', { href: 'account.html', text: ER.t('confirm_email.invalid.link') })
        }))
      ]);
    }

    if (!token) { invalid(); return; }

    ER.api('POST', '/me/email/confirmations', { token: token }, { auth: false }).then(function (res) {
      if (res.status === 200 && res.body && typeof res.body.email === 'string') {
        ER.clearSession(); // the change ended every session of the account
        address.textContent = res.body.email;
        status.textContent = ER.t('confirm_email.done');
        success.hidden = false;
        return;
      }
      if (res.status === 400 || res.status === 422) { invalid(); return; }
      status.textContent = ER.t('confirm_email.failed');
      ER.showError(res);
    });
  });
}());
