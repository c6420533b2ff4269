/* register.html — POST /registrations */
(function () {
  'use strict';
  var ER = window.ER;

  ER.onReady(function () {
    var form = document.getElementById('register-form');

    ER.onSubmit(form, function () {
      ER.clearAlert();
      ER.clearFieldErrors();
      if (!ER.checkRequired(form, {
        id_number: 'Enter your ID Number.',
        secret_number: 'Enter your Secret Number.',
        email: 'Enter your email address.',
        password: 'Create a password.',
        confirm_password: 'Enter your password again.',
        accept_terms: 'You must accept the terms of use to register.'
      })) { return; }

      var payload = {
        id_number: ER.trimmed('id_number'),
        secret_number: ER.trimmed('secret_number'),
        email: ER.trimmed('email'),
        password: ER.value('password'),
        confirm_password: ER.value('confirm_password'),
        accept_terms: ER.checked('accept_terms'),
        newsletter_opt_in: ER.checked('newsletter_opt_in')
      };

      return ER.api('POST', '/registrations', payload).then(function (res) {
        if (res.status === 201 || res.status === 200) {
          var email = (res.body && typeof res.body.email === 'string') ? res.body.email : payload.email;
          form.reset();
          form.hidden = true;
          ER.showAlert('success', [
            ER.el('p', { 'class': 'alert__title', text: 'Check your email to confirm your address' }),
            ER.el('p', null, ['We have sent a confirmation link to ', ER.el('strong', { text: email }),
              '. Open it within 24 hours to finish registering. Then you can log in.']),
            ER.el('p', null, ['No email? Check your spam folder, or ',
              ER.el('a', { href: 'confirm.html', text: 'ask for a new confirmation email' }), '.'])
          ]);
          return;
        }
        // Never keep the passwords in the form after a failed attempt that was not a field error.
        ER.showError(res, {
          credentials_mismatch: 'The ID Number and Secret Number do not match our records. Check them against your Confirmation of Entry. If they still do not work, contact your exam centre.',
          already_registered: function () {
            return [
              'This ID Number is already registered.',
              ER.el('p', null, [ER.el('a', { href: 'login.html', text: 'Log in' }), ' or ',
                ER.el('a', { href: 'forgot.html', text: 'reset your password' }), ' if you have forgotten it.'])
            ];
          },
          too_many_attempts: function (r) {
            return 'The Secret Number was entered wrongly too many times for this ID Number. ' + ER.tryAgainText(r.headers);
          },
          '429': function (r) {
            return 'Too many attempts for this ID Number. ' + ER.tryAgainText(r.headers);
          }
        });
      });
    });
  });
}());
