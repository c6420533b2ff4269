/* forgot.html — POST /password-resets */
(function () {
  'use strict';
  var ER = window.ER;

  ER.onReady(function () {
    var form = document.getElementById('forgot-form');
    ER.onSubmit(form, function () {
      ER.clearAlert();
      ER.clearFieldErrors();
      if (!ER.checkRequired(form, { id_number: 'Enter your ID Number.' })) { return; }
      return ER.api('POST', '/password-resets', { id_number: ER.trimmed('id_number') }, { auth: false }).then(function (res) {
        if (res.status === 202 || res.status === 200) {
          form.hidden = true;
          ER.showAlert('info', [
            'If that ID is registered, we sent an email with a link to reset your password.',
            'The link works for 60 minutes and can be used once. Check your spam folder if it does not arrive.'
          ]);
          return;
        }
        ER.showError(res, {
          '429': function (r) {
            return 'Too many password reset requests. ' + ER.tryAgainText(r.headers);
          }
        });
      });
    });
  });
}());
