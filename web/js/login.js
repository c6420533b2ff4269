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
        id_number: 'Enter your ID Number.',
        password: 'Enter your password.'
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
          ER.showAlert('error', [
            'You need to confirm your email address before you can log in.',
            'Open the link in the email we sent when you registered, or send a new one below.'
          ]);
          resendSection.hidden = false;
          return;
        }
        ER.showError(res, {
          invalid_credentials: 'The ID Number or password is not right. Check them and try again. After 4 wrong passwords you will not be able to log in for 30 minutes.',
          locked: function (r) {
            return [
              'You entered the wrong password too many times. ' + ER.tryAgainText(r.headers),
              ER.el('p', null, ['If you have forgotten your password, you can ',
                ER.el('a', { href: 'forgot.html', text: 'reset it' }), ' now.'])
            ];
          },
          '429': function (r) {
            return 'You entered the wrong password too many times. ' + ER.tryAgainText(r.headers);
          }
        });
      });
    });

    ER.onSubmit(resendForm, function () {
      ER.clearFieldErrors();
      var idNumber = ER.trimmed('id_number');
      if (!idNumber) {
        ER.showFieldErrors({ message: 'Enter your ID Number first.', errors: [{ field: 'id_number', message: 'Enter your ID Number.' }] });
        return;
      }
      return ER.api('POST', '/registrations/confirmations/resend', { id_number: idNumber }, { auth: false }).then(function (res) {
        if (res.status === 202 || res.status === 200) {
          ER.showAlert('info', 'If that ID Number is registered and its email address is not yet confirmed, we have sent a new confirmation email. Check your inbox and spam folder. The link works for 24 hours.');
          resendSection.hidden = true;
          return;
        }
        ER.showError(res);
      });
    });
  });
}());
