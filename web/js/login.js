/* login.html — POST /sessions; resend confirmation when the email is not confirmed */
(function () {
  'use strict';
  var ER = window.ER;

  ER.onReady(function () {
    var form = document.getElementById('login-form');
    var password = document.getElementById('password');
    var resendSection = document.getElementById('resend-section');
    var resendForm = document.getElementById('resend-form');
    var next = ER.safeNext(ER.queryParam('next')) || 'results.html';

    ER.onSubmit(form, function () {
      ER.clearAlert();
      ER.clearFieldErrors();
      resendSection.hidden = true;
      if (!ER.checkRequired(form, {
        id_number: ER.t('error.id_number.required'),
        password: ER.t('error.password.required')
      })) { return; }

      var payload = { id_number: ER.trimmed('id_number'), password: ER.value('password') };
      return ER.api('POST', '/sessions', payload, { auth: false }).then(function (res) {
        if (res.status === 200 && res.body && typeof res.body.token === 'string' && res.body.token) {
          ER.setSession(res.body.token, res.body.expires_at);
          password.value = '';
          window.location.assign(next);
          return new Promise(function () {}); // keep the button disabled while navigating
        }
        password.value = '';
        if (res.status === 403 && res.body && res.body.code === 'email_not_confirmed') {
          ER.showAlert('error', [ER.t('login.not_confirmed'), ER.t('login.not_confirmed.more')]);
          resendSection.hidden = false;
          return;
        }
        ER.showError(res, {
          invalid_credentials: ER.t('login.invalid'),
          locked: function (r) {
            return [
              ER.t('login.locked', { try_again: ER.tryAgainText(r.headers) }),
              ER.el('p', null, ER.tNodes('login.locked.reset', {
                link: ER.el('a', { href: 'forgot.html', text: ER.t('login.locked.reset.link') })
              }))
            ];
          },
          '429': function (r) {
            return ER.t('login.locked', { try_again: ER.tryAgainText(r.headers) });
          }
        });
      });
    });

    ER.onSubmit(resendForm, function () {
      ER.clearFieldErrors();
      var idNumber = ER.trimmed('id_number');
      if (!idNumber) {
        ER.showFieldErrors({ message: ER.t('login.resend.id_first'), errors: [{ field: 'id_number', message: ER.t('error.id_number.required') }] });
        return;
      }
      return ER.api('POST', '/registrations/confirmations/resend', { id_number: idNumber }, { auth: false }).then(function (res) {
        if (res.status === 202 || res.status === 200) {
          ER.showAlert('info', ER.t('resend.sent'));
          resendSection.hidden = true;
          return;
        }
        ER.showError(res);
      });
    });
  });
}());
