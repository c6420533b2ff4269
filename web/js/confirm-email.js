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
      status.textContent = 'This link is not valid.';
      ER.showAlert('error', [
        'This link is invalid or has expired. Links work for 24 hours and only once, and a later change of password or email address cancels them.',
        ER.el('p', null, [ER.el('a', { href: 'account.html', text: 'Ask for a new link on your account page' }), '.'])
      ]);
    }

    if (!token) { invalid(); return; }

    ER.api('POST', '/me/email/confirmations', { token: token }, { auth: false }).then(function (res) {
      if (res.status === 200 && res.body && typeof res.body.email === 'string') {
        ER.clearSession(); // the change ended every session of the account
        address.textContent = res.body.email;
        status.textContent = 'Your email address has been changed.';
        success.hidden = false;
        return;
      }
      if (res.status === 400 || res.status === 422) { invalid(); return; }
      status.textContent = 'We could not change your email address just now.';
      ER.showError(res);
    });
  });
}());
