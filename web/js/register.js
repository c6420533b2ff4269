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
        id_number: ER.t('error.id_number.required'),
        secret_number: ER.t('error.secret_number.required'),
        email: ER.t('error.email.required'),
        password: ER.t('error.new_password.required'),
        confirm_password: ER.t('error.confirm_password.required'),
        accept_terms: ER.t('error.accept_terms.required')
      })) { return; }

      var payload = {
        id_number: ER.trimmed('id_number'),
        secret_number: ER.trimmed('secret_number'),
        email: ER.trimmed('email'),
        password: ER.value('password'),
        confirm_password: ER.value('confirm_password'),
        accept_terms: ER.checked('accept_terms'),
        newsletter_opt_in: ER.checked('newsletter_opt_in'),
        // The account's emails are written in the language the candidate registered in.
        language: ER.language()
      };

      return ER.api('POST', '/registrations', payload).then(function (res) {
        if (res.status === 201 || res.status === 200) {
          var email = (res.body && typeof res.body.email === 'string') ? res.body.email : payload.email;
          form.reset();
          form.hidden = true;
          ER.showAlert('success', [
            ER.el('p', { 'class': 'alert__title', text: ER.t('register.done.title') }),
            ER.el('p', null, ER.tNodes('register.done.sent', { email: ER.el('strong', { text: email, translate: 'no' }) })),
            ER.el('p', null, ER.tNodes('register.done.no_email', {
              link: ER.el('a', { href: 'confirm.html', text: ER.t('register.done.no_email.link') })
            }))
          ]);
          return;
        }
        // Never keep the passwords in the form after a failed attempt that was not a field error.
        ER.showError(res, {
          credentials_mismatch: ER.t('register.mismatch'),
          already_registered: function () {
            return [
              ER.t('register.already'),
              ER.el('p', null, ER.tNodes('register.already.more', {
                login: ER.el('a', { href: 'login.html', text: ER.t('register.already.login') }),
                reset: ER.el('a', { href: 'forgot.html', text: ER.t('register.already.reset') })
              }))
            ];
          },
          too_many_attempts: function (r) {
            return ER.t('register.too_many_secrets', { try_again: ER.tryAgainText(r.headers) });
          },
          '429': function (r) {
            return ER.t('register.too_many', { try_again: ER.tryAgainText(r.headers) });
          }
        });
      });
    });
  });
}());
