/* forgot.html — POST /password-resets */
(function () {
  'use strict';
  var ER = window.ER;

  ER.onReady(function () {
    var form = document.getElementById('forgot-form');
    ER.onSubmit(form, function () {
      ER.clearAlert();
      ER.clearFieldErrors();
      if (!ER.checkRequired(form, { id_number: ER.t('error.id_number.required') })) { return; }
      return ER.api('POST', '/password-resets', { id_number: ER.trimmed('id_number') }, { auth: false }).then(function (res) {
        if (res.status === 202 || res.status === 200) {
          form.hidden = true;
          ER.showAlert('info', [ER.t('forgot.sent'), ER.t('forgot.sent.more')]);
          return;
        }
        ER.showError(res, {
          '429': function (r) {
            return ER.t('forgot.too_many', { try_again: ER.tryAgainText(r.headers) });
          }
        });
      });
    });
  });
}());
