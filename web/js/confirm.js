/* confirm.html?token=… — POST /registrations/confirmations, resend form on failure */
(function () {
  'use strict';
  var ER = window.ER;

  ER.onReady(function () {
    var token = ER.queryParam('token');
    ER.stripQuery(); // keep the one-time token out of history and referrers
    var status = document.getElementById('confirm-status');
    var success = document.getElementById('confirm-success');
    var resendSection = document.getElementById('resend-section');
    var resendForm = document.getElementById('resend-form');

    function showResend(text) {
      status.textContent = text;
      resendSection.hidden = false;
    }

    ER.onSubmit(resendForm, function () {
      ER.clearAlert();
      ER.clearFieldErrors();
      if (!ER.checkRequired(resendForm, { id_number: ER.t('error.id_number.required') })) { return; }
      return ER.api('POST', '/registrations/confirmations/resend', { id_number: ER.trimmed('id_number') }).then(function (res) {
        if (res.status === 202 || res.status === 200) {
          ER.showAlert('info', ER.t('resend.sent'));
          return;
        }
        ER.showError(res);
      });
    });

    if (!token) {
      showResend(ER.t('confirm.no_token'));
      return;
    }

    ER.api('POST', '/registrations/confirmations', { token: token }).then(function (res) {
      if (res.status === 200 || res.status === 204) {
        status.textContent = ER.t('confirm.done');
        success.hidden = false;
        ER.showAlert('success', ER.t('confirm.done.alert'));
        return;
      }
      if (res.status === 400 || res.status === 422 || res.status === 404) {
        showResend(ER.t('confirm.invalid'));
        ER.showAlert('error', ER.t('confirm.invalid.alert'));
        return;
      }
      showResend(ER.t('confirm.failed'));
      ER.showError(res);
    });
  });
}());
