/* reset.html?token=… — POST /password-resets/confirmations */
(function () {
  'use strict';
  var ER = window.ER;

  ER.onReady(function () {
    var token = ER.queryParam('token');
    ER.stripQuery(); // keep the one-time token out of history and referrers
    var form = document.getElementById('reset-form');
    var success = document.getElementById('reset-success');

    function invalidLink() {
      form.hidden = true;
      ER.showAlert('error', [
        ER.t('reset.invalid'),
        ER.el('p', null, ER.tNodes('reset.invalid.more', {
          link: ER.el('a', { href: 'forgot.html', text: ER.t('reset.invalid.link') })
        }))
      ]);
    }

    if (!token) { invalidLink(); return; }

    ER.onSubmit(form, function () {
      ER.clearAlert();
      ER.clearFieldErrors();
      if (!ER.checkRequired(form, {
        password: ER.t('error.reset_password.required'),
        confirm_password: ER.t('error.reset_confirm.required')
      })) { return; }
      var payload = { token: token, password: ER.value('password'), confirm_password: ER.value('confirm_password') };
      return ER.api('POST', '/password-resets/confirmations', payload, { auth: false }).then(function (res) {
        if (res.status === 200 || res.status === 204) {
          form.reset();
          form.hidden = true;
          ER.clearSession(); // a reset ends every session of the ID
          success.hidden = false;
          ER.showAlert('success', ER.t('reset.done'));
          return;
        }
        if (res.status === 400 || (res.body && res.body.code === 'invalid_token')) {
          form.reset();
          invalidLink();
          return;
        }
        ER.showError(res);
      });
    });
  });
}());
